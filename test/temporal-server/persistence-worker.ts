/**
 * A worker in a process of its own, for persistence.test.ts: killed with the server (as in
 * `npm start`, where the worker dies with it). `tsx persistence-worker.ts <address> <taskQueue> <attemptsLog>`;
 * prints `worker running` once it polls. Its activity appends `<label> attempt <n>` to the log file.
 */
import fs from 'node:fs';
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from './harness';

async function main(): Promise<void> {
  const [address, taskQueue, attemptsLog] = process.argv.slice(2);
  if (!address || !taskQueue || !attemptsLog) throw new Error('usage: persistence-worker <address> <taskQueue> <attemptsLog>');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      /** Works `ms` of wall-clock time; answers with the attempt that finished. */
      async recordedWork(label: string, ms: number): Promise<string> {
        const { attempt } = Context.current().info;
        fs.appendFileSync(attemptsLog, `${label} attempt ${attempt}\n`);
        await Context.current().sleep(ms);
        return `${label} done on attempt ${attempt}`;
      },
    },
  });
  const running = worker.run();
  console.log('worker running');
  await running;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
