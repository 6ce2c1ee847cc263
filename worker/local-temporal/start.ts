import type { Logger } from 'pino';
import { startTemporalTestServer } from './engine/server';

export interface LocalTemporal {
  /** host:port of the frontend. */
  address: string;
  namespace: string;
  /** Which Temporal this is, for the logs. */
  kind: 'configured' | 'embedded';
  stop(): Promise<void>;
}

/**
 * The Temporal that `npm start` uses: TEMPORAL_ADDRESS when set; otherwise the project's own
 * engine in real-time mode, in this process (see engine/README.md).
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
  const server = await startTemporalTestServer({ host: '127.0.0.1', timeSkipping: false });
  options.logger.warn(
    { address: server.address },
    'local Temporal started (the embedded engine, in memory: in-flight workflows do not survive a restart until its journal lands); production needs a real Temporal cluster: set TEMPORAL_ADDRESS',
  );
  return { address: server.address, namespace: options.namespace, kind: 'embedded', stop: () => server.close() };
}
