// One worker process for the benches, started by them as a child (node --import tsx) so that its CPU
// and RSS are the worker's alone, not the driving client's or the SMTP capture's:
//   BENCH_WORKER=fieldops  the production worker (createWorker: workflows, activities, outbox relay)
//   BENCH_WORKER=floor     the SDK floor: sdk-floor-workflows.ts with a no-op local activity
// with the cache and threads from WORKER_MAX_CACHED_WORKFLOWS and WORKER_THREADS (worker/tuning.ts)
// and the SDK's own metrics (workflow tasks, local activities, sticky cache hits, misses and
// evictions) served for Prometheus on 127.0.0.1:BENCH_METRICS_PORT. Prints "ready" once polling;
// SIGTERM shuts it down (the SDK runtime's own signal handling).
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import pino from 'pino';
import { systemClock } from '../../activities/shared/clock';
import { createMailer } from '../../activities/shared/mailer';
import { createPostgresDb } from '../../db';
import { createCalendarProvider } from '../../db/repositories/calendar';
import { workerTuning } from '../../worker/tuning';
import { createWorker } from '../../worker/worker';
import { testSignedLinks } from '../support/app';
import { workflowBundle } from '../support/process-harness';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${required('BENCH_METRICS_PORT')}` } } },
  });
  const connection = await NativeConnection.connect({ address: required('BENCH_TEMPORAL_ADDRESS') });
  const taskQueue = required('BENCH_TASK_QUEUE');
  const tuning = workerTuning();
  let run: () => Promise<void>;
  let close = async () => {};
  if (process.env.BENCH_WORKER === 'floor') {
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./sdk-floor-workflows'), logger: new DefaultLogger('WARN') });
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: bundle,
      activities: { async noop() {} },
      maxCachedWorkflows: tuning.maxCachedWorkflows,
      workflowThreadPoolSize: tuning.workflowThreads,
    });
    run = () => worker.run();
  } else {
    const db = createPostgresDb(required('BENCH_DATABASE_URL'), 20);
    const mailer = createMailer({ smtpUrl: required('BENCH_SMTP_URL'), mailFrom: 'bench <bench@fieldops.test>', dataDir: 'var' });
    const worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      db,
      mailer,
      clock: systemClock,
      links: testSignedLinks(),
      calendar: createCalendarProvider(db),
      logger: pino({ level: 'silent' }),
      tuning,
    });
    run = () => worker.run();
    close = async () => {
      mailer.close();
      await db.destroy();
    };
  }
  const running = run();
  process.stdout.write('ready\n');
  await running;
  await close();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
