import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { pingDb } from '../db';
import type { Runtime } from '../worker/runtime';
import { createApp } from './app';

/** Starts the HTTP API on the runtime's port; resolves once it listens. */
export async function startApiServer(runtime: Runtime, temporal: Client): Promise<Server> {
  const app = createApp({
    config: runtime.config,
    db: runtime.db,
    logger: runtime.logger,
    links: runtime.links,
    calendar: runtime.calendar,
    temporal,
    mailer: runtime.mailer,
    readiness: {
      database: () => pingDb(runtime.db),
      temporal: async () => {
        await temporal.connection.workflowService.getSystemInfo({});
      },
    },
    mailCaptureDirectory: runtime.mailCaptureDirectory,
  });
  const server = app.listen(runtime.config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  runtime.logger.info({ url: runtime.config.publicBaseUrl, docs: `${runtime.config.publicBaseUrl}/docs` }, 'API listening');
  return server;
}

/** Stops accepting connections and waits for in-flight requests, closing idle keep-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Runs `shutdown` once on SIGINT or SIGTERM, then exits. */
export function onShutdownSignal(shutdown: () => Promise<void>, log: (message: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received: shutting down gracefully`);
    shutdown()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
