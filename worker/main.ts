import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startMissingProcessesPeriodically } from '../api/shared/process-starts';
import { loadConfig } from '../activities/shared/config';
import { installTemporalRuntime } from './logger';
import { createRuntime } from '../activities/shared/runtime';
import { createWorker } from './worker';

/** The production worker process: `npm run worker`. */
async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config);
  installTemporalRuntime(runtime.logger);
  const address = config.temporal.address ?? 'localhost:7233';
  const connection = await NativeConnection.connect({ address });
  let clientConnection: Connection | undefined;
  let processStarts: { stop(): Promise<void> } | undefined;
  try {
    const worker = await createWorker({ ...runtime, connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, outboxRelay: { maxRetryDelayMs: config.outboxMaxRetryDelayMs } });
    runtime.logger.info({ address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue }, 'worker started');
    // Cases committed without a workflow (the API crashed or Temporal refused between the two) get
    // theirs now and on every later round; the start is idempotent, so every worker may do this.
    clientConnection = await Connection.connect({ address });
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
    processStarts = startMissingProcessesPeriodically(runtime.db, client, { taskQueue: config.temporal.taskQueue, logger: runtime.logger });
    // The SDK shuts the worker down gracefully on SIGINT/SIGTERM; run() resolves once in-flight tasks are done.
    await worker.run();
  } finally {
    await processStarts?.stop();
    await clientConnection?.close();
    await connection.close();
    await runtime.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
