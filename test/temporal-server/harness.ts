import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createTestEnv } from '../support/temporal';

/**
 * Shared setup of the conformance suite: one environment and one running worker per test file,
 * the workflow bundle built once and cached across files.
 */

type ActivityImplementations = Record<string, (...args: never[]) => Promise<unknown>>;

const WORKFLOWS_DIR = path.join(__dirname, 'workflows');
const CACHE_DIR = path.resolve(__dirname, '..', '..', 'node_modules', '.cache', 'fieldops-temporal-test-server');

function installQuietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process.
  }
}

/** The workflow bundle of ./workflows, rebuilt only when those sources change. */
export async function workflowBundle(): Promise<WorkflowBundle> {
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(WORKFLOWS_DIR).sort()) hash.update(name).update(fs.readFileSync(path.join(WORKFLOWS_DIR, name)));
  const cached = path.join(CACHE_DIR, `workflows-${hash.digest('hex').slice(0, 16)}.js`);
  if (fs.existsSync(cached)) return { code: fs.readFileSync(cached, 'utf8') };
  const bundle = await bundleWorkflowCode({ workflowsPath: path.join(WORKFLOWS_DIR, 'index.ts'), logger: new DefaultLogger('WARN') });
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const temporary = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bundle.code);
  fs.renameSync(temporary, cached);
  return bundle;
}

export interface ServerTestContext {
  readonly env: TestWorkflowEnvironment;
  /** The task queue served by the file's worker. */
  readonly taskQueue: string;
  /** A fresh workflow id. */
  id(prefix: string): string;
  /** Creates (not runs) another worker on `taskQueue` with the file's activities. */
  createWorker(taskQueue?: string): Promise<Worker>;
  /** Stops the file's shared worker (e.g. to let a test run its own on the same queue). */
  stopSharedWorker(): Promise<void>;
  history(workflowId: string, runId?: string): Promise<temporal.api.history.v1.IHistoryEvent[]>;
  /** Event types of a history as `WorkflowExecutionStarted`, `WorkflowTaskScheduled`, ... */
  eventTypes(workflowId: string, runId?: string): Promise<string[]>;
}

export function eventTypeName(event: temporal.api.history.v1.IHistoryEvent): string {
  const name = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
  return name
    .replace(/^EVENT_TYPE_/, '')
    .split('_')
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join('');
}

export function useServerTestEnv(name: string, activities: ActivityImplementations = {}): ServerTestContext {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundle | undefined;
  let sharedWorker: Worker | undefined;
  let sharedRun: Promise<void> | undefined;
  let counter = 0;
  const taskQueue = `conformance-${name}`;

  const createWorker = async (queue = taskQueue): Promise<Worker> =>
    Worker.create({
      connection: context.env.nativeConnection,
      taskQueue: queue,
      workflowBundle: bundle!,
      activities,
    });

  const stopSharedWorker = async (): Promise<void> => {
    if (sharedWorker && sharedWorker.getState() === 'RUNNING') sharedWorker.shutdown();
    await sharedRun;
    sharedWorker = undefined;
  };

  const context: ServerTestContext = {
    get env() {
      if (!env) throw new Error('the test environment is created in beforeAll');
      return env;
    },
    taskQueue,
    id: (prefix) => `${name}-${prefix}-${++counter}-${Date.now()}`,
    createWorker,
    stopSharedWorker,
    history: async (workflowId, runId) => {
      const history = await context.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      return history.events ?? [];
    },
    eventTypes: async (workflowId, runId) => (await context.history(workflowId, runId)).map(eventTypeName),
  };

  beforeAll(async () => {
    installQuietRuntime();
    [env, bundle] = await Promise.all([createTestEnv(), workflowBundle()]);
    sharedWorker = await createWorker();
    sharedRun = sharedWorker.run();
  }, 60_000);

  afterAll(async () => {
    await stopSharedWorker();
    await env?.teardown();
  }, 30_000);

  return context;
}
