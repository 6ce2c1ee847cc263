// The benches' worker as a child process (bench-worker.ts): its CPU seconds and RSS read from /proc,
// its SDK metrics scraped from its Prometheus endpoint, so that each figure is the worker's alone.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freeLocalPort } from '../../db/free-port';

const PAGE_BYTES = 4096;
const CLOCK_TICKS_PER_SECOND = 100;

/** The SDK's counters that the benches read: workflow tasks, local activities, sticky cache hits, misses (full replays) and forced evictions. */
export interface WorkerCounters {
  workflowTasks: number;
  localActivities: number;
  cacheHits: number;
  cacheMisses: number;
  forcedEvictions: number;
}

export interface BenchWorker {
  readonly pid: number;
  /** User + system CPU seconds of the process so far. */
  cpuSeconds(): number;
  rssBytes(): number;
  /** The highest RSS seen by the sampler (every 500 ms) since start. */
  peakRssBytes(): number;
  counters(): Promise<WorkerCounters>;
  stop(): Promise<void>;
}

function stat(pid: number): { cpuSeconds: number; rssBytes: number } {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND, rssBytes: Number(fields[21]) * PAGE_BYTES };
  } catch {
    return { cpuSeconds: 0, rssBytes: 0 };
  }
}

/** User + system CPU seconds so far of the process `pid` (0 once it has gone). */
export const processCpuSeconds = (pid: number): number => stat(pid).cpuSeconds;

/**
 * CPU seconds so far, by command name, of the processes `roots` (pids, or a text their command line contains) and of all
 * their descendants: `npm start` with its embedded PostgreSQL (whose backends name no path) and local Temporal.
 */
export function processTreeCpuSeconds(roots: Array<number | string>): Map<string, number> {
  const parentOf = new Map<number, number>();
  const rootPids = new Set<number>();
  for (const name of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const pid = Number(name);
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parentOf.set(pid, Number(fields[1]));
      if (roots.includes(pid)) rootPids.add(pid);
      else if (roots.some((root) => typeof root === 'string' && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(root))) rootPids.add(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  const byCommand = new Map<string, number>();
  for (const pid of parentOf.keys()) {
    for (let ancestor: number | undefined = pid; ancestor !== undefined && ancestor > 1; ancestor = parentOf.get(ancestor)) {
      if (rootPids.has(ancestor)) {
        let command = 'gone';
        try {
          command = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {
          // The process ended while we looked.
        }
        byCommand.set(command, (byCommand.get(command) ?? 0) + stat(pid).cpuSeconds);
        break;
      }
    }
  }
  return byCommand;
}

/** Sum of a Prometheus metric's samples whose name is `name` exactly (all label sets). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name) sum += Number(match[3]);
  }
  return sum;
}

export async function startBenchWorker(options: {
  mode: 'fieldops' | 'floor';
  temporalAddress: string;
  taskQueue: string;
  databaseUrl?: string;
  smtpUrl?: string;
  /** Extra environment (WORKER_MAX_CACHED_WORKFLOWS, WORKER_THREADS). */
  env?: NodeJS.ProcessEnv;
}): Promise<BenchWorker> {
  const metricsPort = await freeLocalPort();
  // BENCH_CPU_PROF=<dir>: the worker writes V8 CPU profiles (main and workflow threads) there when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(__dirname, 'bench-worker.ts')], {
    env: {
      ...process.env,
      // The production worker runs without the bench driver's larger heap (npm run bench:* may set one).
      NODE_OPTIONS: '',
      ...options.env,
      BENCH_WORKER: options.mode,
      BENCH_TEMPORAL_ADDRESS: options.temporalAddress,
      BENCH_TASK_QUEUE: options.taskQueue,
      BENCH_DATABASE_URL: options.databaseUrl ?? '',
      BENCH_SMTP_URL: options.smtpUrl ?? '',
      BENCH_METRICS_PORT: String(metricsPort),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code} before it was ready`)));
  });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, stat(pid).rssBytes);
  }, 500);
  return {
    pid,
    cpuSeconds: () => stat(pid).cpuSeconds,
    rssBytes: () => stat(pid).rssBytes,
    peakRssBytes: () => Math.max(peak, stat(pid).rssBytes),
    async counters() {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return {
        workflowTasks: metricSum(text, 'temporal_workflow_task_execution_latency_count'),
        localActivities: metricSum(text, 'temporal_local_activity_total'),
        cacheHits: metricSum(text, 'temporal_sticky_cache_hit'),
        cacheMisses: metricSum(text, 'temporal_sticky_cache_miss'),
        forcedEvictions: metricSum(text, 'temporal_sticky_cache_total_forced_eviction'),
      };
    },
    async stop() {
      clearInterval(sampler);
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The counters' growth between two readings. */
export function countersSince(before: WorkerCounters, after: WorkerCounters): WorkerCounters {
  return {
    workflowTasks: after.workflowTasks - before.workflowTasks,
    localActivities: after.localActivities - before.localActivities,
    cacheHits: after.cacheHits - before.cacheHits,
    cacheMisses: after.cacheMisses - before.cacheMisses,
    forcedEvictions: after.forcedEvictions - before.forcedEvictions,
  };
}

/** Workflow activations: one per workflow task plus one per local activity resolved (as bench:sdk-floor counts them: 1 + 16 a workflow). */
export const activationsOf = (counters: WorkerCounters): number => counters.workflowTasks + counters.localActivities;
