import { startTemporalTestServer } from './server';

/**
 * Command line of the launcher: `temporal-test-server <port> [--real-time] [--start-time=ISO]`, like Temporal's Java
 * test server (time skipping on). Runs until SIGINT/SIGTERM.
 */
export async function main(args: readonly string[]): Promise<void> {
  const port = Number(args[0] ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error('usage: temporal-test-server <port> [--real-time] [--start-time=ISO]');
    process.exit(2);
  }
  const startTime = args.find((arg) => arg.startsWith('--start-time='))?.slice('--start-time='.length) ?? process.env.TEMPORAL_TEST_SERVER_START_TIME;
  const startTimeMs = startTime ? Date.parse(startTime) : undefined;
  if (startTimeMs !== undefined && Number.isNaN(startTimeMs)) {
    console.error(`--start-time / TEMPORAL_TEST_SERVER_START_TIME is not an ISO instant: ${startTime}`);
    process.exit(2);
  }
  const server = await startTemporalTestServer({ port, host: '127.0.0.1', timeSkipping: !args.includes('--real-time'), startTimeMs });
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
