/**
 * `npm run bench:temporal-server`:
 * 1. 1,000 workflows, each an activity, a signal and a 15-day timer, under time skipping on one
 *    worker, against the launcher (a separate process, as in the tests). Prints wall time, workflows
 *    per second and the server's resident memory.
 * 2. What durability costs: the same kind of workload (a 1-second timer instead) in real-time mode
 *    in this process, once in memory and once with a data directory (as `npm start` runs it), back
 *    to back; prints both and their ratio.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startTemporalTestServer } from '../../worker/local-temporal/engine/server';
import { createTestEnv } from '../support/temporal';
import { workflowBundle } from '../temporal-server/harness';
import { benchGoSignal, benchWorkflow, shortBenchWorkflow } from '../temporal-server/workflows';

const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 1000);
const DURABLE_WORKFLOWS = Number(process.env.BENCH_DURABLE_WORKFLOWS ?? 500);
const START_CONCURRENCY = 100;
const TASK_QUEUE = 'bench';

/** The launcher process serving `port` (its command line ends with the port). */
function serverPid(port: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (args.some((arg) => arg.endsWith('temporal-test-server')) && args[args.length - 1] === port) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

function memoryOf(pid: number | undefined): string {
  if (pid === undefined) return 'unknown (server process not found)';
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => (new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? '0');
  return `${(Number(field('VmRSS')) / 1024).toFixed(0)} MB now, ${(Number(field('VmHWM')) / 1024).toFixed(0)} MB peak`;
}

/** CPU seconds (user + system) the server process has used. */
function cpuSecondsOf(pid: number | undefined): string {
  if (pid === undefined) return 'unknown';
  // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return `${(ticks / 100).toFixed(1)} s`;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let index = 0; index < items.length; index += size) await Promise.all(items.slice(index, index + size).map(run));
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await createTestEnv();
  const pid = serverPid(env.address.split(':').pop() ?? '');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: { benchStep: async (value: number) => value + 1 },
  });
  const ids = Array.from({ length: WORKFLOWS }, (_, index) => index);
  const startedAt = performance.now();
  const virtualStart = await env.currentTimeMs();
  let startPhaseSeconds = 0;
  await worker.runUntil(async () => {
    await inBatches(ids, START_CONCURRENCY, async (index) => {
      const handle = await env.client.workflow.start(benchWorkflow, { taskQueue: TASK_QUEUE, workflowId: `bench-${index}`, args: [index] });
      await handle.signal(benchGoSignal);
    });
    startPhaseSeconds = (performance.now() - startedAt) / 1000;
    const results = await Promise.all(ids.map((index) => env.client.workflow.result(`bench-${index}`)));
    const wrong = results.filter((result, index) => result !== index + 1).length;
    if (wrong > 0) throw new Error(`${wrong} workflows returned a wrong result`);
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const virtualDays = ((await env.currentTimeMs()) - virtualStart) / 86_400_000;
  console.log(`workflows:      ${WORKFLOWS} (each: 1 activity, 1 signal, 1 timer of 15 days), 1 worker`);
  console.log(`wall time:      ${seconds.toFixed(1)} s`);
  console.log(`  of which:     ${startPhaseSeconds.toFixed(1)} s starting and signalling, the rest awaiting results`);
  console.log(`throughput:     ${(WORKFLOWS / seconds).toFixed(1)} workflows/s`);
  console.log(`virtual time:   ${virtualDays.toFixed(1)} days skipped`);
  console.log(`server memory:  ${memoryOf(pid)}`);
  console.log(`server CPU:     ${cpuSecondsOf(pid)} (the rest of the wall time is the SDK worker and client)`);
  await env.teardown();

  console.log(`\ndurability: ${DURABLE_WORKFLOWS} workflows (1 activity, 1 signal, a 1 s timer), real-time mode, in process`);
  await realTimeRun(undefined); // warm-up: the first run in a process pays for JIT and caches
  const inMemory = await realTimeRun(undefined);
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-temporal-durable-'));
  try {
    const durable = await realTimeRun(directory);
    const journalBytes = fs.readdirSync(directory).reduce((total, name) => total + fs.statSync(path.join(directory, name)).size, 0);
    console.log(`in memory:      ${inMemory.seconds.toFixed(1)} s wall, ${inMemory.cpuSeconds.toFixed(1)} s CPU (server, worker and client)`);
    console.log(`durable:        ${durable.seconds.toFixed(1)} s wall, ${durable.cpuSeconds.toFixed(1)} s CPU; ${(journalBytes / 1024).toFixed(0)} KiB on disk after the run`);
    console.log(`ratio:          ${(durable.seconds / inMemory.seconds).toFixed(2)}x wall, ${(durable.cpuSeconds / inMemory.cpuSeconds).toFixed(2)}x CPU`);
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** The durability workload against an in-process server, with `dataDir` or in memory. */
async function realTimeRun(dataDir: string | undefined): Promise<{ seconds: number; cpuSeconds: number }> {
  const server = await startTemporalTestServer({ timeSkipping: false, dataDir });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = `durable-${dataDir ? 'disk' : 'memory'}`;
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { benchStep: async (value: number) => value + 1 },
    });
    const ids = Array.from({ length: DURABLE_WORKFLOWS }, (_, index) => index);
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    await worker.runUntil(async () => {
      await inBatches(ids, START_CONCURRENCY, async (index) => {
        const handle = await client.workflow.start(shortBenchWorkflow, { taskQueue, workflowId: `durable-${index}`, args: [index] });
        await handle.signal(benchGoSignal);
      });
      const results = await Promise.all(ids.map((index) => client.workflow.result(`durable-${index}`)));
      if (results.some((result, index) => result !== index + 1)) throw new Error('a workflow returned a wrong result');
    });
    const cpu = process.cpuUsage(cpuBefore);
    return { seconds: (performance.now() - startedAt) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await connection.close();
    await nativeConnection.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
