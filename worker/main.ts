import { NativeConnection } from '@temporalio/worker';
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
  try {
    const worker = await createWorker({ ...runtime, connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
    runtime.logger.info({ address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue }, 'worker started');
    // The SDK shuts the worker down gracefully on SIGINT/SIGTERM; run() resolves once in-flight tasks are done.
    await worker.run();
  } finally {
    await connection.close();
    await runtime.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
