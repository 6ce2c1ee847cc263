import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino, { type Logger } from 'pino';
import { systemClock } from '../../activities/shared/clock';
import { createMailer, senderOf } from '../../activities/shared/mailer';
import { createCalendarProvider } from '../../db/repositories/calendar';
import type { UserRole } from '../../db/schema';
import type { OutboxRelayOptions } from '../../worker/outbox-relay';
import { cachedWorkflowBundle } from '../../worker/workflow-bundle';
import { createWorker, workflowsPath } from '../../worker/worker';
import { createTestApp, createUsers, testConfig, testSignedLinks } from './app';
import { createTestDatabase, type TestDatabase } from './db';
import { startTestSmtpServer, type TestSmtpServer } from './smtp';
import { createTestEnv } from './temporal';

let bundle: Promise<{ code: string }> | undefined;

/**
 * The production workflow bundle, as the worker loads it: built once per version of the workflow
 * sources (jest's global setup builds it before the test files run) and read from the cache after.
 */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= cachedWorkflowBundle(workflowsPath()).then(({ code }) => ({ code }));
  return bundle;
}

/**
 * The outbox relay in tests: the same code as in production, polling and retrying faster so that a
 * test of an SMTP outage takes seconds (first retry after 200 ms, then 400 ms ... at most 1 s).
 */
export const TEST_OUTBOX_RELAY: Partial<OutboxRelayOptions> = { pollIntervalMs: 100, firstRetryDelayMs: 200, maxRetryDelayMs: 1_000 };

export interface ProcessHarness {
  database: TestDatabase;
  smtp: TestSmtpServer;
  env: TestWorkflowEnvironment;
  taskQueue: string;
  app: ReturnType<typeof createTestApp>;
  tokens: Record<UserRole, string>;
  /** Starts a worker (with its outbox relay) on the harness's task queue; `stop()` shuts it down and waits for it. */
  startWorker(): Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * Everything a process test needs, all real: a fresh PostgreSQL database, an SMTP server, the
 * Temporal test server with time skipping, the production worker and the Express app.
 */
export async function startProcessHarness(options: { startTime?: string; logger?: Logger } = {}): Promise<ProcessHarness> {
  // One logger for the API and the worker (tests that read the log pass their own).
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const [database, smtp, env, workflows] = await Promise.all([createTestDatabase(), startTestSmtpServer(), createTestEnv(options), workflowBundle()]);
  const taskQueue = `fieldops-test-${randomBytes(4).toString('hex')}`;
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
  const links = testSignedLinks();
  const config = { ...testConfig, temporal: { ...testConfig.temporal, taskQueue } };
  const app = createTestApp(database.db, { temporal: env.client, config, links, mailer, logger });
  const tokens = await createUsers(database.db, ['admin', 'manager', 'service_desk', 'billing', 'engineer']);
  const workers = new Set<{ stop(): Promise<void> }>();

  return {
    database,
    smtp,
    env,
    taskQueue,
    app,
    tokens,
    async startWorker() {
      const worker = await createWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        workflowBundle: workflows,
        db: database.db,
        mailer,
        sender: senderOf('fieldops <noreply@fieldops.test>'),
        clock: systemClock,
        links,
        calendar: createCalendarProvider(database.db),
        logger,
        outboxRelay: TEST_OUTBOX_RELAY,
      });
      const running = worker.run();
      const handle = {
        async stop() {
          workers.delete(handle);
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
        },
      };
      workers.add(handle);
      return handle;
    },
    async close() {
      for (const worker of [...workers]) await worker.stop();
      await env.teardown();
      mailer.close();
      await Promise.all([database.drop(), smtp.close()]);
    },
  };
}
