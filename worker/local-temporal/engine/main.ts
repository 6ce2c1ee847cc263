import path from 'node:path';
import { startTemporalTestServer } from './server';

const USAGE = 'usage: temporal-test-server <port> [--real-time] [--start-time=ISO] [--data-dir=PATH]';

function option(args: readonly string[], name: string): string | undefined {
  return args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
}

/**
 * Command line of the launcher: `temporal-test-server <port> [--real-time] [--start-time=ISO]
 * [--data-dir=PATH]`, like Temporal's Java test server (time skipping on). Runs until SIGINT/SIGTERM.
 */
export async function main(args: readonly string[]): Promise<void> {
  const port = Number(args[0] ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(USAGE);
    process.exit(2);
  }
  const startTime = option(args, '--start-time') ?? process.env.TEMPORAL_TEST_SERVER_START_TIME;
  const startTimeMs = startTime ? Date.parse(startTime) : undefined;
  if (startTimeMs !== undefined && Number.isNaN(startTimeMs)) {
    console.error(`--start-time / TEMPORAL_TEST_SERVER_START_TIME is not an ISO instant: ${startTime}`);
    process.exit(2);
  }
  const dataDir = option(args, '--data-dir');
  if (dataDir === '') {
    console.error(USAGE);
    process.exit(2);
  }
  const server = await startTemporalTestServer({
    port,
    host: '127.0.0.1',
    timeSkipping: !args.includes('--real-time'),
    startTimeMs,
    dataDir: dataDir === undefined ? undefined : path.resolve(dataDir),
  });
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
