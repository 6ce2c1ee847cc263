import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { pingDb } from '../db';
import type { Runtime } from '../activities/shared/runtime';
import { createApp } from './app';
import { withinTemporalDeadline } from './shared/temporal-calls';
import { answerClientErrors } from './shared/hardening';
import type { ReadinessChecks } from './routes/system';

/** Starts the HTTP API on the runtime's port; resolves once it listens. */
export async function startApiServer(runtime: Runtime, temporal: Client, extraReadiness: ReadinessChecks = {}): Promise<Server> {
  const app = createApp({
    config: runtime.config,
    db: runtime.db,
    logger: runtime.logger,
    links: runtime.links,
    calendar: runtime.calendar,
    clock: runtime.clock,
    temporal,
    mailer: runtime.mailer,
    readiness: {
      database: () => pingDb(runtime.db),
      temporal: async () => {
        await withinTemporalDeadline(temporal, 'readiness', 3_000, () => temporal.connection.workflowService.getSystemInfo({}));
      },
      ...extraReadiness,
    },
    mailCaptureDirectory: runtime.mailCaptureDirectory,
  });
  const server = app.listen(runtime.config.port);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  runtime.logger.info({ url: runtime.config.publicBaseUrl, docs: `${runtime.config.publicBaseUrl}/docs` }, 'API listening');
  return server;
}

/** Stops accepting connections and waits for in-flight requests; idle keep-alive sockets close at once, busy ones after `graceMs`. */
export function closeServer(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** How long a graceful stop may take before the process exits anyway. */
export const SHUTDOWN_LIMIT_MS = 15_000;

/**
 * Runs `shutdown` once on SIGINT or SIGTERM, then exits 0. A second signal, or a shutdown that
 * takes longer than SHUTDOWN_LIMIT_MS, exits at once with a non-zero code.
 */
export function onShutdownSignal(shutdown: () => Promise<void>, logger: Pick<Logger, 'info' | 'error'>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.error(`${signal} received again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    logger.info(`${signal} received: shutting down gracefully (again to force)`);
    setTimeout(() => {
      logger.error(`graceful shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000} s: exiting now`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    shutdown()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
