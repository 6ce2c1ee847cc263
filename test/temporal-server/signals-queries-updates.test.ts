import { QueryNotRegisteredError, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { useServerTestEnv } from './harness';
import {
  accumulatorWorkflow,
  addSignal,
  approvalWorkflow,
  approveUpdate,
  failingQuery,
  finishSignal,
  releaseSignal,
  signalDuringTaskWorkflow,
  slowApproveUpdate,
  totalQuery,
} from './workflows';

const alreadySignalled = new Set<string>();

const t = useServerTestEnv('messaging', {
  /** Signals once per workflow: a re-executed local activity (after a failed task) does nothing. */
  async signalWorkflow(workflowId: string, value: number): Promise<void> {
    if (alreadySignalled.has(workflowId)) return;
    alreadySignalled.add(workflowId);
    await t.env.client.workflow.getHandle(workflowId).signal(addSignal, value);
  },
});

async function settled(workflowId: string): Promise<void> {
  // Waits until no workflow task is pending, so the next message meets an idle workflow.
  for (let i = 0; i < 200; i++) {
    const description = await t.env.client.workflow.getHandle(workflowId).describe();
    if (!description.raw.pendingWorkflowTask) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('workflow task still pending');
}

describe('signals', () => {
  test('signals are delivered in order to the workflow', async () => {
    const handle = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('signals') });
    await handle.signal(addSignal, 1);
    await handle.signal(addSignal, 10);
    await handle.signal(finishSignal);
    expect(await handle.result()).toBe(11);
    const signaled = (await t.history(handle.workflowId)).filter((event) => event.workflowExecutionSignaledEventAttributes);
    expect(signaled.map((event) => event.workflowExecutionSignaledEventAttributes?.signalName)).toEqual(['add', 'add', 'finish']);
  });

  test('signal-with-start starts a workflow with the signal right after WorkflowExecutionStarted', async () => {
    const workflowId = t.id('sws');
    const handle = await t.env.client.workflow.signalWithStart(accumulatorWorkflow, {
      taskQueue: t.taskQueue,
      workflowId,
      signal: addSignal,
      signalArgs: [5],
    });
    expect((await t.eventTypes(workflowId)).slice(0, 3)).toEqual(['WorkflowExecutionStarted', 'WorkflowExecutionSignaled', 'WorkflowTaskScheduled']);
    await handle.signal(finishSignal);
    expect(await handle.result()).toBe(5);
  });

  test('signal-with-start on a running workflow only signals it', async () => {
    const workflowId = t.id('sws-running');
    const first = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId });
    const second = await t.env.client.workflow.signalWithStart(accumulatorWorkflow, {
      taskQueue: t.taskQueue,
      workflowId,
      signal: addSignal,
      signalArgs: [3],
    });
    expect(second.signaledRunId).toBe(first.firstExecutionRunId);
    await first.signal(finishSignal);
    expect(await first.result()).toBe(3);
  });

  test('a signal that arrives during a workflow task is delivered after it', async () => {
    const workflowId = t.id('during-task');
    expect(await t.env.client.workflow.execute(signalDuringTaskWorkflow, { taskQueue: t.taskQueue, workflowId, args: [false] })).toBe(7);
    const types = await t.eventTypes(workflowId);
    const firstCompleted = types.indexOf('WorkflowTaskCompleted');
    // The local activity's marker belongs to the first task; the signal is written after it.
    expect(types.slice(firstCompleted, firstCompleted + 4)).toEqual([
      'WorkflowTaskCompleted',
      'MarkerRecorded',
      'WorkflowExecutionSignaled',
      'WorkflowTaskScheduled',
    ]);
  });

  test('completing a workflow while a signal is buffered fails the task with UNHANDLED_COMMAND', async () => {
    const workflowId = t.id('unhandled');
    expect(await t.env.client.workflow.execute(signalDuringTaskWorkflow, { taskQueue: t.taskQueue, workflowId, args: [true] })).toBe(7);
    const events = await t.history(workflowId);
    const failed = events.find((event) => event.workflowTaskFailedEventAttributes);
    expect(failed?.workflowTaskFailedEventAttributes?.cause).toBe(
      temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
    );
  });
});

describe('queries', () => {
  test('a query on an idle workflow is answered through a query task', async () => {
    const handle = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('query') });
    await handle.signal(addSignal, 4);
    await settled(handle.workflowId);
    expect(await handle.query(totalQuery)).toBe(4);
    await handle.signal(finishSignal);
    await handle.result();
  });

  test('queries sent together with signals see the state after the signals', async () => {
    const handle = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('query-burst') });
    const answers = await Promise.all([handle.signal(addSignal, 2), handle.signal(addSignal, 3)]).then(() =>
      Promise.all([handle.query(totalQuery), handle.query(totalQuery)]),
    );
    expect(answers).toEqual([5, 5]);
    await handle.signal(finishSignal);
    await handle.result();
  });

  test('a query after the workflow closed is answered by replaying its history', async () => {
    const handle = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('query-closed') });
    await handle.signal(addSignal, 9);
    await handle.signal(finishSignal);
    await handle.result();
    expect(await handle.query(totalQuery)).toBe(9);
  });

  test('a query whose handler throws fails the query call', async () => {
    const handle = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('query-fail') });
    await expect(handle.query(failingQuery)).rejects.toBeInstanceOf(QueryNotRegisteredError);
    await expect(handle.query('no-such-query')).rejects.toThrow(/no-such-query/);
    await handle.terminate();
  });

  test('a query reject condition NOT_OPEN rejects queries on closed workflows', async () => {
    const workflowId = t.id('query-reject');
    const handle = await t.env.client.workflow.start(accumulatorWorkflow, { taskQueue: t.taskQueue, workflowId });
    await handle.signal(finishSignal);
    await handle.result();
    const proto = temporal;
    const response = await t.env.client.workflowService.queryWorkflow({
      namespace: 'default',
      execution: { workflowId },
      query: { queryType: 'total' },
      queryRejectCondition: proto.api.enums.v1.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN,
    });
    expect(response.queryRejected?.status).toBe(proto.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    const strict = t.env.client.workflow.getHandle(workflowId);
    expect(await strict.query(totalQuery)).toBe(0);
  });
});

describe('updates', () => {
  test('an update runs its handler and returns the result (wait for COMPLETED)', async () => {
    const handle = await t.env.client.workflow.start(approvalWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('update') });
    expect(await handle.executeUpdate(approveUpdate, { args: ['ann'] })).toBe('approved by ann');
    expect(await handle.result()).toBe('ann');
    const types = await t.eventTypes(handle.workflowId);
    expect(types).toEqual(expect.arrayContaining(['WorkflowExecutionUpdateAccepted', 'WorkflowExecutionUpdateCompleted']));
  });

  test('an update rejected by its validator fails the call and writes no events', async () => {
    const handle = await t.env.client.workflow.start(approvalWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('update-reject') });
    await settled(handle.workflowId);
    const before = await t.eventTypes(handle.workflowId);
    const error = await handle.executeUpdate(approveUpdate, { args: [''] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((error as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect((error as WorkflowUpdateFailedError).cause?.message).toBe('an approver is required');
    expect(await t.eventTypes(handle.workflowId)).toEqual(before);
    // The workflow is unaffected and accepts a valid update afterwards.
    expect(await handle.executeUpdate(approveUpdate, { args: ['bo'] })).toBe('approved by bo');
    expect(await handle.result()).toBe('bo');
  });

  test('an update waited for ACCEPTED returns before its handler completes', async () => {
    const handle = await t.env.client.workflow.start(approvalWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('update-accepted') });
    const update = await handle.startUpdate(slowApproveUpdate, { args: ['cy'], waitForStage: WorkflowUpdateStage.ACCEPTED });
    const types = await t.eventTypes(handle.workflowId);
    expect(types).toContain('WorkflowExecutionUpdateAccepted');
    expect(types).not.toContain('WorkflowExecutionUpdateCompleted');
    await handle.signal(releaseSignal);
    expect(await update.result()).toBe('slowly approved by cy');
    expect(await handle.result()).toBe('cy');
  });

  test('an update with an existing update id is answered with the first outcome', async () => {
    const handle = await t.env.client.workflow.start(approvalWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('update-id') });
    const update = await handle.startUpdate(slowApproveUpdate, { args: ['di'], updateId: 'approval-1', waitForStage: WorkflowUpdateStage.ACCEPTED });
    const again = handle.getUpdateHandle<string>('approval-1');
    await handle.signal(releaseSignal);
    expect(await again.result()).toBe('slowly approved by di');
    expect(await update.result()).toBe('slowly approved by di');
    await handle.result();
  });

  test('an update on a closed workflow fails', async () => {
    const handle = await t.env.client.workflow.start(approvalWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('update-closed') });
    await handle.terminate();
    await expect(handle.executeUpdate(approveUpdate, { args: ['ed'] })).rejects.toThrow();
  });

  test('update-with-start starts the workflow and runs the update in one call', async () => {
    const workflowId = t.id('update-with-start');
    const startWorkflowOperation = new WithStartWorkflowOperation(approvalWorkflow, {
      workflowId,
      taskQueue: t.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    expect(await t.env.client.workflow.executeUpdateWithStart(approveUpdate, { args: ['fi'], startWorkflowOperation })).toBe('approved by fi');
    const handle = await startWorkflowOperation.workflowHandle();
    expect(await handle.result()).toBe('fi');
  });
});
