import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const REPO_ROOT = path.resolve(__dirname, '..');
const WORKFLOWS_DIR = path.join(REPO_ROOT, 'workflows');
const CACHE_DIRS = [path.join(REPO_ROOT, 'node_modules', '.cache', 'fieldops-workflows'), path.join(os.tmpdir(), 'fieldops-workflows')];

const silentLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

function sourceFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return entry.name.endsWith('.ts') ? [full] : [];
    })
    .sort();
}

/**
 * Workflow code reaches nothing outside `workflows/` but activity types (erased) and packages (the
 * lock file pins them): eslint enforces it. So their contents name the bundle.
 */
function bundleHash(): string {
  const hash = crypto.createHash('sha256');
  for (const file of sourceFiles(WORKFLOWS_DIR)) hash.update(path.relative(REPO_ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  const lockFile = path.join(REPO_ROOT, 'package-lock.json');
  if (fs.existsSync(lockFile)) hash.update(fs.readFileSync(lockFile));
  return hash.digest('hex').slice(0, 20);
}

/**
 * The production workflow bundle, built once per version of the workflow sources and reused from
 * a cache after that (a cold build takes several seconds; a cached one is a file read). The
 * bundler's report is not printed.
 */
export async function cachedWorkflowBundle(workflowsPath: string): Promise<{ code: string; fromCache: boolean }> {
  const name = `workflows-${bundleHash()}.js`;
  for (const directory of CACHE_DIRS) {
    const file = path.join(directory, name);
    if (fs.existsSync(file)) return { code: fs.readFileSync(file, 'utf8'), fromCache: true };
  }
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: silentLogger });
  for (const directory of CACHE_DIRS) {
    try {
      fs.mkdirSync(directory, { recursive: true });
      const temporary = path.join(directory, `${name}.${process.pid}.tmp`);
      fs.writeFileSync(temporary, code);
      fs.renameSync(temporary, path.join(directory, name));
      break;
    } catch {
      // Not writable: try the next place; without a cache the next start just bundles again.
    }
  }
  return { code, fromCache: false };
}
