import fs from 'node:fs';

/**
 * Whether the process `pid` still runs, for a lock or owner file that names it. A zombie (killed,
 * not yet reaped: common in containers whose PID 1 does not reap) counts as gone.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...": comm may hold spaces and parentheses, state follows the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
