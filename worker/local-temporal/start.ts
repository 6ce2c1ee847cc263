import path from 'node:path';
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
 * engine in real-time mode, in this process, its state journaled under `<dataDir>/temporal` so
 * that workflows, timers and pending tasks survive a restart (see engine/README.md).
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
  const dataDir = path.join(options.dataDir, 'temporal');
  const server = await startTemporalTestServer({ host: '127.0.0.1', timeSkipping: false, dataDir });
  options.logger.info(
    { address: server.address, state: dataDir },
    'local Temporal started (the embedded engine, durable under DATA_DIR); production needs a real Temporal cluster: set TEMPORAL_ADDRESS',
  );
  return { address: server.address, namespace: options.namespace, kind: 'embedded', stop: () => server.close() };
}
