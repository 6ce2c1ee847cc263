import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowUpdateStage } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { parseJournal } from '../../worker/local-temporal/engine/journal';
import { startTemporalTestServer } from '../../worker/local-temporal/engine/server';
import { TEMPORAL_TEST_SERVER_PATH } from '../support/temporal';
import { eventTypeName, workflowBundle } from './harness';
import {
  accumulatorWorkflow,
  addSignal,
  confirmationWorkflow,
  confirmUpdate,
  echoWorkflow,
  finishSignal,
  noteSignal,
  runActivity,
  sleepingWorkflow,
} from './workflows';
import { freeLocalPort } from '../../db/free-port';

// The launcher in real-time mode with a data directory, as a child process killed with SIGKILL
// mid-flight, and a worker in a child process of its own killed with it (in `npm start` the worker
// dies with the server). After each kill both start again on the same directory and port.

const WORKER_SCRIPT = path.join(__dirname, 'persistence-worker.ts');
const taskQueue = 'persistence';

interface ChildRun {
  readonly child: ChildProcess;
  /** Everything it printed, stdout and stderr. */
  output(): string;
  exited: Promise<void>;
}

function spawnLogged(command: string, args: string[]): ChildRun {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => text, exited };
}

async function until<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms (${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let dataDir: string;
let attemptsLog: string;
let port: number;
let address: string;
let server: ChildRun | undefined;
let worker: ChildRun | undefined;
let connection: Connection | undefined;
let client: Client;

async function startServer(): Promise<void> {
  server = spawnLogged(process.execPath, [TEMPORAL_TEST_SERVER_PATH, String(port), '--real-time', `--data-dir=${dataDir}`]);
  const started = server;
  await until(
    async () => (started.child.exitCode === null ? accepts(port) : Promise.reject(new Error(`server exited: ${started.output()}`))),
    (up) => up,
    'server accepting connections',
  );
}

async function startWorker(): Promise<void> {
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a child of its own,
  // which a SIGKILL of the CLI would leave running as an orphan.
  worker = spawnLogged(process.execPath, ['--import', 'tsx', WORKER_SCRIPT, address, taskQueue, attemptsLog]);
  const started = worker;
  await until(
    () => (started.child.exitCode === null ? started.output() : Promise.reject(new Error(`worker exited: ${started.output()}`))),
    (output) => output.includes('worker running'),
    'worker running',
  );
}

async function connectClient(): Promise<void> {
  await connection?.close();
  connection = await Connection.connect({ address });
  client = new Client({ connection });
}

/** SIGKILL of the server and the worker: nothing gets to flush or say goodbye. */
async function killBoth(): Promise<void> {
  for (const run of [server, worker]) run?.child.kill('SIGKILL');
  await Promise.all([server?.exited, worker?.exited]);
}

async function restart(): Promise<void> {
  await startServer();
  await Promise.all([startWorker(), connectClient()]);
}

async function history(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

const countOf = (types: string[], type: string): number => types.filter((candidate) => candidate === type).length;

/** Event ids run 1..n without a gap or a repeat. */
function expectConsecutiveEventIds(events: temporal.api.history.v1.IHistoryEvent[]): void {
  expect(events.map((event) => Number(event.eventId))).toEqual(events.map((_, index) => index + 1));
}

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process.
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-persistence-'));
  attemptsLog = path.join(dataDir, '..', `${path.basename(dataDir)}-attempts.log`);
  fs.writeFileSync(attemptsLog, '');
  port = await freeLocalPort();
  address = `127.0.0.1:${port}`;
  await workflowBundle(); // built once here, so the worker process finds it cached
  await restart();
}, 120_000);

afterAll(async () => {
  await killBoth();
  await connection?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(attemptsLog, { force: true });
});

describe('persistence (real-time mode, --data-dir, SIGKILL and restart)', () => {
  test('a timer that came due while the server was down fires once at restart; the workflow completes once', async () => {
    const workflowId = 'timer-across-restart';
    await client.workflow.start(sleepingWorkflow, { taskQueue, workflowId, args: ['3 seconds'] });
    await until(async () => (await history(workflowId)).map(eventTypeName), (types) => types.includes('TimerStarted'), 'TimerStarted');
    const timerStartedAt = Date.now();
    await killBoth();
    await pause(3_500 - (Date.now() - timerStartedAt));
    await restart();
    expect(await client.workflow.getHandle(workflowId).result()).toBe('woke up');
    const events = await history(workflowId);
    const types = events.map(eventTypeName);
    expect(countOf(types, 'TimerStarted')).toBe(1);
    expect(countOf(types, 'TimerFired')).toBe(1);
    expect(countOf(types, 'WorkflowExecutionCompleted')).toBe(1);
    expect(types[types.length - 1]).toBe('WorkflowExecutionCompleted');
    expectConsecutiveEventIds(events);
  }, 60_000);

  test('an activity running at the kill is retried per its retry policy after the restart; no event is duplicated', async () => {
    const workflowId = 'activity-across-restart';
    await client.workflow.start(runActivity, {
      taskQueue,
      workflowId,
      args: ['recordedWork', ['report', 3_000], { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumAttempts: 3 } }],
    });
    const attempts = () => fs.readFileSync(attemptsLog, 'utf8').split('\n').filter((line) => line.startsWith('report '));
    await until(attempts, (lines) => lines.length === 1, 'first attempt running');
    await killBoth();
    await restart();
    expect(await client.workflow.getHandle(workflowId).result()).toEqual({ result: 'report done on attempt 2' });
    expect(attempts()).toEqual(['report attempt 1', 'report attempt 2']);
    const events = await history(workflowId);
    const types = events.map(eventTypeName);
    expect(countOf(types, 'ActivityTaskScheduled')).toBe(1);
    expect(countOf(types, 'ActivityTaskStarted')).toBe(1);
    expect(countOf(types, 'ActivityTaskCompleted')).toBe(1);
    expect(events.find((event) => event.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes?.attempt).toBe(2);
    expect(countOf(types, 'WorkflowExecutionCompleted')).toBe(1);
    expectConsecutiveEventIds(events);
  }, 60_000);

  test('an update accepted before the kill completes after the restart and its result can be polled; a signal sent just before the kill is not lost', async () => {
    const workflowId = 'update-across-restart';
    const handle = await client.workflow.start(confirmationWorkflow, { taskQueue, workflowId, args: ['3 seconds'] });
    await handle.startUpdate(confirmUpdate, { args: ['ada'], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: 'confirm-ada' });
    await handle.signal(noteSignal, 'before-kill');
    await killBoth();
    await restart();
    const restarted = client.workflow.getHandle(workflowId);
    // The caller's long poll died with the server: the update is polled again by its id.
    expect(await restarted.getUpdateHandle<string>('confirm-ada').result()).toBe('confirmed by ada after notes: before-kill');
    await restarted.signal(noteSignal, 'last');
    expect(await restarted.result()).toEqual(['before-kill', 'last']);
    const events = await history(workflowId);
    const types = events.map(eventTypeName);
    expect(countOf(types, 'WorkflowExecutionUpdateAccepted')).toBe(1);
    expect(countOf(types, 'WorkflowExecutionUpdateCompleted')).toBe(1);
    expect(countOf(types, 'WorkflowExecutionSignaled')).toBe(2);
    expectConsecutiveEventIds(events);
  }, 60_000);

  test('a journal whose last batch a crash left half-written loads: the torn batch is dropped, the rest is kept', async () => {
    const workflowId = 'torn-journal';
    const handle = await client.workflow.start(accumulatorWorkflow, { taskQueue, workflowId });
    await handle.signal(addSignal, 2);
    await killBoth();
    const journal = fs.readdirSync(dataDir).find((name) => /^journal-\d+\.jsonl$/.test(name));
    expect(journal).toBeDefined();
    const torn = '[{"kind":"run","runId":"torn","firstEventIndex":0,"events":["CAEQ';
    fs.appendFileSync(path.join(dataDir, journal!), torn);
    await restart();
    expect(server?.output()).toContain(`dropped ${torn.length} bytes`);
    const restarted = client.workflow.getHandle(workflowId);
    await restarted.signal(addSignal, 3);
    await restarted.signal(finishSignal);
    expect(await restarted.result()).toBe(5);
  }, 60_000);
});

describe('journal format', () => {
  test('a torn last line is dropped; complete batches are kept', () => {
    const { batches, droppedTailBytes } = parseJournal<number>('[1,2]\n[3]\n[4,', 'journal');
    expect(batches).toEqual([[1, 2], [3]]);
    expect(droppedTailBytes).toBe(3);
  });

  test('a complete last batch without its newline was never acknowledged and is dropped too', () => {
    expect(parseJournal<number>('[1]\n[2]', 'journal')).toEqual({ batches: [[1]], droppedTailBytes: 3 });
  });

  test('an unreadable batch before a readable one is corruption, not a torn tail', () => {
    expect(() => parseJournal<number>('[1]\n[2,\n[3]\n', 'journal')).toThrow(/corrupt/);
  });
});

describe('persistence in process (the npm start API)', () => {
  test('a data directory compacted after every batch gives back the same histories after a restart', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-compaction-'));
    const queue = 'compaction';
    const bundle = await workflowBundle();
    const run = async <T>(body: (client: Client) => Promise<T>): Promise<T> => {
      const inProcess = await startTemporalTestServer({ timeSkipping: false, dataDir: directory, compactJournalAfterBytes: 1 });
      const clientConnection = await Connection.connect({ address: inProcess.address });
      const workerConnection = await NativeConnection.connect({ address: inProcess.address });
      try {
        const inProcessWorker = await Worker.create({ connection: workerConnection, taskQueue: queue, workflowBundle: bundle });
        return await inProcessWorker.runUntil(body(new Client({ connection: clientConnection })));
      } finally {
        await clientConnection.close();
        await workerConnection.close();
        await inProcess.close();
      }
    };
    try {
      const before = await run(async (inProcessClient) => {
        expect(await inProcessClient.workflow.execute(echoWorkflow, { taskQueue: queue, workflowId: 'echo', args: ['kept'] })).toBe('kept');
        const handle = await inProcessClient.workflow.start(accumulatorWorkflow, { taskQueue: queue, workflowId: 'open' });
        await handle.signal(addSignal, 4);
        return (await inProcessClient.workflow.getHandle('echo').fetchHistory()).events?.map(eventTypeName);
      });
      expect(fs.readdirSync(directory).filter((name) => name.startsWith('journal-'))).toHaveLength(1);
      await run(async (inProcessClient) => {
        expect((await inProcessClient.workflow.getHandle('echo').fetchHistory()).events?.map(eventTypeName)).toEqual(before);
        expect(await inProcessClient.workflow.getHandle('echo').result()).toBe('kept');
        const open = inProcessClient.workflow.getHandle('open');
        await open.signal(addSignal, 1);
        await open.signal(finishSignal);
        expect(await open.result()).toBe(5);
        const listed = [];
        for await (const execution of inProcessClient.workflow.list({ query: "ExecutionStatus = 'Completed'" })) listed.push(execution.workflowId);
        expect(listed.sort()).toEqual(['echo', 'open']);
      });
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);
});
