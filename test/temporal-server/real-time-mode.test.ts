import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from './harness';
import { startTemporalTestServer, type TemporalTestServer } from '../../worker/local-temporal/engine/server';
import { echoWorkflow, sleepingWorkflow } from './workflows';

// The in-process API in real-time mode, as `npm start` uses it offline.
let server: TemporalTestServer;
let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'real-time';

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process.
  }
  server = await startTemporalTestServer({ timeSkipping: false });
  connection = await Connection.connect({ address: server.address });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  client = new Client({ connection });
  worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: await workflowBundle() });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await nativeConnection?.close();
  await server?.close();
});

describe('real-time mode (in-process server)', () => {
  test('a workflow completes against the in-process server', async () => {
    expect(await client.workflow.execute(echoWorkflow, { taskQueue, workflowId: 'echo', args: ['offline'] })).toBe('offline');
  });

  test('a timer fires after its wall-clock duration, not before', async () => {
    const started = Date.now();
    expect(await client.workflow.execute(sleepingWorkflow, { taskQueue, workflowId: 'sleep', args: ['1 second'] })).toBe('woke up');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  test('the server answers UNIMPLEMENTED for an RPC it does not support', async () => {
    await expect(connection.workflowService.listSchedules({ namespace: 'default' })).rejects.toMatchObject({ code: 12 });
  });
});
