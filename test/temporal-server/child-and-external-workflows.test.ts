import { useServerTestEnv } from './harness';
import {
  accumulatorWorkflow,
  cancelExternalWorkflow,
  finishSignal,
  parentCancellingChild,
  parentLeavingChild,
  parentOfDuplicateChild,
  parentOfEcho,
  parentOfFailingChild,
  signalExternalWorkflow,
  waitForeverWorkflow,
} from './workflows';

const t = useServerTestEnv('children');

async function statusOf(workflowId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const status = (await t.env.client.workflow.getHandle(workflowId).describe()).status.name;
    if (status !== 'RUNNING') return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return 'RUNNING';
}

describe('child workflows', () => {
  test('a child workflow result reaches the parent, with all child events in the parent history', async () => {
    const workflowId = t.id('parent');
    const childId = `${workflowId}-child`;
    expect(await t.env.client.workflow.execute(parentOfEcho, { taskQueue: t.taskQueue, workflowId, args: [childId, 'from child'] })).toBe('from child');
    expect(await t.eventTypes(workflowId)).toEqual(
      expect.arrayContaining(['StartChildWorkflowExecutionInitiated', 'ChildWorkflowExecutionStarted', 'ChildWorkflowExecutionCompleted']),
    );
    const child = await t.env.client.workflow.getHandle(childId).describe();
    expect(child.parentExecution?.workflowId).toBe(workflowId);
    expect(child.status.name).toBe('COMPLETED');
  });

  test('a failing child workflow surfaces as ChildWorkflowFailure in the parent', async () => {
    const workflowId = t.id('parent-fail');
    expect(await t.env.client.workflow.execute(parentOfFailingChild, { taskQueue: t.taskQueue, workflowId, args: [`${workflowId}-child`] })).toBe(
      'child broke',
    );
    expect(await t.eventTypes(workflowId)).toContain('ChildWorkflowExecutionFailed');
  });

  test('parent close policy TERMINATE terminates the child when the parent closes', async () => {
    const workflowId = t.id('policy-terminate');
    await t.env.client.workflow.execute(parentLeavingChild, { taskQueue: t.taskQueue, workflowId, args: [`${workflowId}-child`, 'TERMINATE'] });
    expect(await statusOf(`${workflowId}-child`)).toBe('TERMINATED');
  });

  test('parent close policy REQUEST_CANCEL cancels the child when the parent closes', async () => {
    const workflowId = t.id('policy-cancel');
    await t.env.client.workflow.execute(parentLeavingChild, { taskQueue: t.taskQueue, workflowId, args: [`${workflowId}-child`, 'REQUEST_CANCEL'] });
    expect(await statusOf(`${workflowId}-child`)).toBe('CANCELLED');
  });

  test('parent close policy ABANDON leaves the child running', async () => {
    const workflowId = t.id('policy-abandon');
    const childId = `${workflowId}-child`;
    await t.env.client.workflow.execute(parentLeavingChild, { taskQueue: t.taskQueue, workflowId, args: [childId, 'ABANDON'] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await t.env.client.workflow.getHandle(childId).describe()).status.name).toBe('RUNNING');
    await t.env.client.workflow.getHandle(childId).terminate();
  });

  test('a parent cancelling its child gets a ChildWorkflowFailure caused by the cancellation', async () => {
    const workflowId = t.id('cancel-child');
    const childId = `${workflowId}-child`;
    expect(await t.env.client.workflow.execute(parentCancellingChild, { taskQueue: t.taskQueue, workflowId, args: [childId] })).toBe(
      'child cancelled',
    );
    expect(await t.eventTypes(workflowId)).toEqual(
      expect.arrayContaining(['RequestCancelExternalWorkflowExecutionInitiated', 'ChildWorkflowExecutionCanceled']),
    );
    expect((await t.env.client.workflow.getHandle(childId).describe()).status.name).toBe('CANCELLED');
  });

  test('starting a child with the id of a running workflow fails with WORKFLOW_ALREADY_EXISTS', async () => {
    const workflowId = t.id('dup-child');
    const existing = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId: `${workflowId}-existing` });
    expect(await t.env.client.workflow.execute(parentOfDuplicateChild, { taskQueue: t.taskQueue, workflowId, args: [existing.workflowId] })).toBe(
      'already started',
    );
    expect(await t.eventTypes(workflowId)).toContain('StartChildWorkflowExecutionFailed');
    await existing.terminate();
  });
});

describe('external workflows', () => {
  test('signalling an external workflow delivers the signal and writes ExternalWorkflowExecutionSignaled', async () => {
    const target = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('signal-target') });
    const workflowId = t.id('signaller');
    expect(await t.env.client.workflow.execute(signalExternalWorkflow, { taskQueue: t.taskQueue, workflowId, args: [target.workflowId, 6] })).toBe(
      'signalled',
    );
    expect(await t.eventTypes(workflowId)).toEqual(expect.arrayContaining(['SignalExternalWorkflowExecutionInitiated', 'ExternalWorkflowExecutionSignaled']));
    await target.signal(finishSignal);
    expect(await target.result()).toBe(6);
  });

  test('signalling a workflow that does not exist fails in the sender', async () => {
    const workflowId = t.id('signal-missing');
    const outcome = await t.env.client.workflow.execute(signalExternalWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['nobody-home', 1] });
    expect(outcome).toMatch(/^failed/);
    expect(await t.eventTypes(workflowId)).toContain('SignalExternalWorkflowExecutionFailed');
  });

  test('requesting cancellation of an external workflow cancels it', async () => {
    const target = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('cancel-target') });
    const workflowId = t.id('canceller');
    expect(await t.env.client.workflow.execute(cancelExternalWorkflow, { taskQueue: t.taskQueue, workflowId, args: [target.workflowId] })).toBe(
      'cancel requested',
    );
    expect(await t.eventTypes(workflowId)).toEqual(
      expect.arrayContaining(['RequestCancelExternalWorkflowExecutionInitiated', 'ExternalWorkflowExecutionCancelRequested']),
    );
    expect(await statusOf(target.workflowId)).toBe('CANCELLED');
    const cancelRequested = (await t.history(target.workflowId)).find((event) => event.workflowExecutionCancelRequestedEventAttributes);
    expect(cancelRequested?.workflowExecutionCancelRequestedEventAttributes?.externalWorkflowExecution?.workflowId).toBe(workflowId);
  });

  test('requesting cancellation of a workflow that does not exist fails in the sender', async () => {
    const workflowId = t.id('cancel-missing');
    expect(await t.env.client.workflow.execute(cancelExternalWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['nobody-home'] })).toMatch(/^failed/);
    expect(await t.eventTypes(workflowId)).toContain('RequestCancelExternalWorkflowExecutionFailed');
  });
});
