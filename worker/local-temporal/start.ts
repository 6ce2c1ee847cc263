import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from 'pino';
import { startTemporalTestServer } from './engine/server';

export interface LocalTemporal {
  /** host:port of the frontend. */
  address: string;
  namespace: string;
  /** Which engine this is, for the logs. */
  kind: 'configured' | 'dev-server' | 'offline-test-server';
  stop(): Promise<void>;
}

const DEV_SERVER_START_TIMEOUT_MS = 60_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The Temporal that `npm start` uses: TEMPORAL_ADDRESS when set; otherwise Temporal's own dev
 * server (downloaded by @temporalio/testing, state in `<dataDir>/temporal.db`) when it can be
 * obtained; otherwise, offline, the project's own test server in real-time mode.
 */
export async function startLocalTemporal(options: {
  address: string | undefined;
  namespace: string;
  dataDir: string;
  logger: Logger;
}): Promise<LocalTemporal> {
  if (options.address) {
    return { address: options.address, namespace: options.namespace, kind: 'configured', stop: async () => {} };
  }
  try {
    const env = await withTimeout(
      TestWorkflowEnvironment.createLocal({
        server: { dbFilename: path.join(options.dataDir, 'temporal.db'), namespace: options.namespace, ui: true },
      }),
      DEV_SERVER_START_TIMEOUT_MS,
      'Temporal dev server',
    );
    const address = env.connection.options.address;
    options.logger.info({ address }, 'started the Temporal dev server (state kept in var/temporal.db)');
    return { address, namespace: options.namespace, kind: 'dev-server', stop: () => env.teardown() };
  } catch (error) {
    options.logger.warn({ reason: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'Temporal dev server unavailable');
  }
  const server = await startTemporalTestServer({ host: '127.0.0.1', timeSkipping: false });
  options.logger.warn(
    { address: server.address },
    '!!! OFFLINE MODE: running on the built-in in-memory Temporal test server. In-flight workflows DO NOT SURVIVE A RESTART. ' +
      'Set TEMPORAL_ADDRESS to a real Temporal cluster (see docker-compose.yml) for anything but a local trial. !!!',
  );
  return { address: server.address, namespace: options.namespace, kind: 'offline-test-server', stop: () => server.close() };
}
