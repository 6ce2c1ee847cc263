import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../activities/shared/config';
import { createRuntime } from '../activities/shared/runtime';
import { logProcessConsistency } from './shared/process-consistency';
import { closeServer, onShutdownSignal, startApiServer } from './server';

/** The production API process: `npm run api`. */
async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config);
  const connection = await Connection.connect({ address: config.temporal.address ?? 'localhost:7233' });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const server = await startApiServer(runtime, temporal);
  void logProcessConsistency(runtime.db, temporal, { taskQueue: config.temporal.taskQueue }, runtime.logger);
  onShutdownSignal(async () => {
    await closeServer(server);
    await connection.close();
    await runtime.close();
  }, runtime.logger);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
