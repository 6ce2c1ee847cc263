import { NativeConnection, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities';
import { cachedWorkflowBundle } from './workflow-bundle';
import { createOutboxRelay, type OutboxRelayOptions } from './outbox-relay';
import { workerTuning, type WorkerTuning } from './tuning';

export interface WorkerDependencies extends ActivityDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per suite); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Overrides of the outbox relay's defaults (tests retry faster). */
  outboxRelay?: Partial<OutboxRelayOptions>;
  /** Workflow cache and threads; from WORKER_MAX_CACHED_WORKFLOWS and WORKER_THREADS when absent. */
  tuning?: WorkerTuning;
}

/** The worker process's work: the Temporal worker and the outbox relay that sends the emails its steps (and the API) queue. */
export interface FieldopsWorker {
  /** Runs both until `shutdown()`; resolves once the Temporal worker has finished its tasks and the relay its round. */
  run(): Promise<void>;
  shutdown(): void;
  getState(): State;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createWorker(deps: WorkerDependencies): Promise<FieldopsWorker> {
  const tuning = deps.tuning ?? workerTuning();
  const relay = createOutboxRelay({ db: deps.db, mailer: deps.mailer, clock: deps.clock, logger: deps.logger, options: deps.outboxRelay });
  const worker = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    activities: createActivities({ ...deps, emailsQueued: () => relay.wake() }),
    workflowBundle: deps.workflowBundle ?? { code: (await cachedWorkflowBundle(workflowsPath())).code },
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    workflowThreadPoolSize: tuning.workflowThreads,
  });
  return {
    async run() {
      relay.start();
      try {
        await worker.run();
      } finally {
        await relay.stop();
      }
    },
    shutdown: () => worker.shutdown(),
    getState: () => worker.getState(),
  };
}
