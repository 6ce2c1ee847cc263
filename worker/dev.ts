import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createUserWithToken } from '../api/auth';
import { issueSignInLink } from '../api/console/sign-in';
import { closeServer, onShutdownSignal, startApiServer } from '../api/server';
import { logProcessConsistency } from '../api/shared/process-consistency';
import { startMissingProcessesPeriodically } from '../api/shared/process-starts';
import { loadConfig } from '../activities/shared/config';
import { createLogger } from '../activities/shared/logger';
import { installTemporalRuntime } from './logger';
import { startLocalTemporal } from './local-temporal/start';
import { createRuntime } from '../activities/shared/runtime';
import { createWorker } from './worker';

const DEVELOPMENT_ADMIN_EMAIL = 'admin@fieldops.local';

/**
 * `npm start`: everything in one process on embedded defaults: the embedded PostgreSQL, migrations,
 * the local Temporal, the worker, the API on PORT and the development mail capture. Only SIGTERM
 * and SIGINT stop it (gracefully, within 15 s; a second one forces the exit).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  // The SDK would otherwise shut the worker down on its own on SIGQUIT/SIGUSR2 while the API kept serving.
  installTemporalRuntime(logger, { shutdownSignals: [] });
  for (const signal of ['SIGUSR2', 'SIGQUIT', 'SIGHUP'] as const) {
    process.on(signal, () => logger.warn({ signal }, 'signal ignored: npm start stops on SIGTERM or SIGINT only'));
  }
  const temporal = await startLocalTemporal({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    dataDir: config.dataDir,
    clockStartMs: config.devClockStartMs,
    logger,
  });
  const runtime = await createRuntime(config, { ownEmbeddedDatabase: true, logger, clock: temporal.clock }).catch(async (error: unknown) => {
    await temporal.stop();
    throw error;
  });
  const { db } = runtime;

  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (!anyUser) {
    const { token } = await createUserWithToken(db, { name: 'Development admin', email: DEVELOPMENT_ADMIN_EMAIL, role: 'admin' });
    console.log(`\n  Created the development admin. API token (shown once): ${token}\n`);
  }
  const admin = await db.selectFrom('users').select('id').where('email', '=', DEVELOPMENT_ADMIN_EMAIL).where('disabled_at', 'is', null).executeTakeFirst();
  if (admin) {
    const signIn = issueSignInLink(runtime.links, config.publicBaseUrl, admin.id);
    console.log(`\n  Staff console: ${config.publicBaseUrl}/console\n  Sign in as ${DEVELOPMENT_ADMIN_EMAIL} within 15 minutes: ${signIn.url}\n  (or ask for a link on the sign-in page: mail is kept under ${config.dataDir}/mail, listed at ${config.publicBaseUrl}/dev/mail)\n`);
  }

  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createWorker({ ...runtime, connection: nativeConnection, namespace: temporal.namespace, taskQueue: config.temporal.taskQueue, outboxRelay: { maxRetryDelayMs: config.outboxMaxRetryDelayMs } });
  let stopping = false;
  const workerRun = worker.run().then(
    () => {
      if (!stopping) logger.error('the worker stopped: no process moves until fieldops is restarted (/readyz now fails)');
    },
    (error: unknown) => logger.error({ err: error }, 'the worker failed: no process moves until fieldops is restarted (/readyz now fails)'),
  );
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const server = await startApiServer(runtime, client, {
    worker: async () => {
      const state = worker.getState();
      if (state !== 'RUNNING') throw new Error(`the worker is ${state.toLowerCase()}`);
    },
  });

  logger.info({ temporal: temporal.kind, docs: `${config.publicBaseUrl}/docs`, mail: runtime.mailCaptureDirectory ? `${config.publicBaseUrl}/dev/mail` : 'SMTP' }, 'fieldops is running');
  // Cases committed without a workflow (a crash or a refused start between the two) get theirs first,
  // then the orphan check reports what is still out of step.
  const processStarts = startMissingProcessesPeriodically(db, client, {
    taskQueue: config.temporal.taskQueue,
    logger,
    afterFirstRound: () => logProcessConsistency(db, client, { taskQueue: config.temporal.taskQueue }, logger),
  });

  onShutdownSignal(async () => {
    stopping = true;
    await closeServer(server);
    await processStarts.stop();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await connection.close();
    await nativeConnection.close();
    await temporal.stop();
    await runtime.close();
  }, logger);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
