import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createUserWithToken } from '../api/auth';
import { closeServer, onShutdownSignal, startApiServer } from '../api/server';
import { loadConfig } from './config';
import { startLocalTemporal } from './local-temporal/start';
import { createRuntime } from './runtime';
import { createWorker } from './worker';

/**
 * `npm start`: everything in one process on embedded defaults: migrations, a local Temporal,
 * the worker, the API on PORT and the development mail capture.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config);
  const { logger, db } = runtime;

  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (!anyUser) {
    const { token } = await createUserWithToken(db, { name: 'Development admin', email: 'admin@fieldops.local', role: 'admin' });
    console.log(`\n  Created the development admin. API token (shown once): ${token}\n`);
  }

  const temporal = await startLocalTemporal({ address: config.temporal.address, namespace: config.temporal.namespace, dataDir: config.dataDir, logger });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createWorker({ ...runtime, connection: nativeConnection, namespace: temporal.namespace, taskQueue: config.temporal.taskQueue });
  const workerRun = worker.run();
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const server = await startApiServer(runtime, client);

  logger.info({ temporal: temporal.kind, docs: `${config.publicBaseUrl}/docs`, mail: runtime.mailCaptureDirectory ? `${config.publicBaseUrl}/dev/mail` : 'SMTP' }, 'fieldops is running');

  onShutdownSignal(async () => {
    await closeServer(server);
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await connection.close();
    await nativeConnection.close();
    await temporal.stop();
    await runtime.close();
  }, (message) => logger.info(message));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
