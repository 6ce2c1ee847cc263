// fieldops' own API process for bench:api, as `npm run api` runs it (createRuntime + startApiServer:
// the same app, middleware, authentication, validation and read models) on DATABASE_URL, without the
// start-up consistency check (the bench's loans have no workflows) and with a Temporal client that
// never connects (the benched routes only read the database). Prints "listening" once it listens.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../activities/shared/config';
import { createRuntime } from '../../activities/shared/runtime';
import { startApiServer } from '../../api/server';

async function main(): Promise<void> {
  const runtime = await createRuntime(loadConfig(), { migrate: false });
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  await startApiServer(runtime, temporal);
  process.stdout.write('listening\n');
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
