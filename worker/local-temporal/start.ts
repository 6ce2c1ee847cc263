import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../activities/shared/clock';
import { startTemporalTestServer } from './engine/server';

export interface LocalTemporal {
  /** host:port of the frontend. */
  address: string;
  namespace: string;
  /** Which Temporal this is, for the logs. */
  kind: 'configured' | 'embedded';
  /** The time workflows see: the activities and the API use it too, so that all agree. */
  clock: Clock;
  stop(): Promise<void>;
}

/** Where the embedded engine keeps its state under DATA_DIR. */
export function localTemporalDirectory(dataDir: string): string {
  return path.join(dataDir, 'temporal');
}

/**
 * The Temporal that `npm start` uses: TEMPORAL_ADDRESS when set; otherwise the project's own
 * engine in real-time mode, in this process, durable under DATA_DIR/temporal (see engine/README.md).
 */
export async function startLocalTemporal(options: {
  address: string | undefined;
  namespace: string;
  dataDir: string;
  /** Development and tests: where the clock of a new data directory starts (config DEV_CLOCK_START). */
  clockStartMs?: number | undefined;
  logger: Logger;
}): Promise<LocalTemporal> {
  if (options.address) {
    return { address: options.address, namespace: options.namespace, kind: 'configured', clock: { now: () => new Date() }, stop: async () => {} };
  }
  const directory = localTemporalDirectory(options.dataDir);
  const server = await startTemporalTestServer({ host: '127.0.0.1', timeSkipping: false, dataDir: directory, startTimeMs: options.clockStartMs });
  const clock: Clock = { now: () => new Date(server.now()) };
  const skewMs = server.now() - Date.now();
  options.logger.info(
    { address: server.address, directory, ...(Math.abs(skewMs) > 1_000 ? { clock: clock.now().toISOString() } : {}) },
    'local Temporal started (the embedded engine, durable in DATA_DIR); production needs a real Temporal cluster: set TEMPORAL_ADDRESS',
  );
  return { address: server.address, namespace: options.namespace, kind: 'embedded', clock, stop: () => server.close() };
}
