import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnv } from '../support/temporal';
import { accumulatorWorkflow, addSignal, approvalWorkflow, approveUpdate, finishSignal, greetingWorkflow, longTimerWorkflow, totalQuery } from './workflows/basics';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.teardown();
});

test('smoke', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'smoke',
    workflowsPath: require.resolve('./workflows/basics'),
    activities: { greet: async (name: string) => `hello ${name}` },
  });
  await worker.runUntil(async () => {
    expect(await env.client.workflow.execute(greetingWorkflow, { taskQueue: 'smoke', workflowId: 'g1', args: ['bob'] })).toBe('hello bob');
    expect(await env.client.workflow.execute(longTimerWorkflow, { taskQueue: 'smoke', workflowId: 't1', args: [30] })).toBe('timer fired');
    const handle = await env.client.workflow.start(accumulatorWorkflow, { taskQueue: 'smoke', workflowId: 'a1' });
    await handle.signal(addSignal, 2);
    await handle.signal(addSignal, 3);
    expect(await handle.query(totalQuery)).toBe(5);
    await handle.signal(finishSignal);
    expect(await handle.result()).toBe(5);
    expect(await handle.query(totalQuery)).toBe(5);
    const approval = await env.client.workflow.start(approvalWorkflow, { taskQueue: 'smoke', workflowId: 'u1' });
    await expect(approval.executeUpdate(approveUpdate, { args: [''] })).rejects.toThrow();
    expect(await approval.executeUpdate(approveUpdate, { args: ['ann'] })).toBe('approved by ann');
    expect(await approval.result()).toBe('ann');
  });
});
