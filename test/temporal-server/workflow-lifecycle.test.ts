import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, RetryState, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { useServerTestEnv } from './harness';
import {
  continueAsNewCounter,
  echoWorkflow,
  failingWorkflow,
  sleepingWorkflow,
  succeedsOnAttempt,
  upsertingWorkflow,
  waitForeverWorkflow,
} from './workflows';

const t = useServerTestEnv('lifecycle');

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not reached');
}

describe('workflow lifecycle', () => {
  test('a started workflow completes with its result', async () => {
    const result = await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('echo'), args: ['hello'] });
    expect(result).toBe('hello');
  });

  test('the history of a completed workflow has the canonical event sequence', async () => {
    const workflowId = t.id('events');
    await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['x'] });
    expect(await t.eventTypes(workflowId)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowTaskScheduled',
      'WorkflowTaskStarted',
      'WorkflowTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    const events = await t.history(workflowId);
    expect(events.map((event) => Number(event.eventId))).toEqual([1, 2, 3, 4, 5]);
    const completed = events[3]!.workflowTaskCompletedEventAttributes!;
    expect(Number(completed.scheduledEventId)).toBe(2);
    expect(Number(completed.startedEventId)).toBe(3);
    // The SDK writes its lang flags here and reads them back on replay.
    expect(completed.sdkMetadata).toBeTruthy();
  });

  test('starting a running workflow id again fails with WorkflowExecutionAlreadyStartedError', async () => {
    const workflowId = t.id('dup');
    const handle = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    await expect(t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId })).rejects.toBeInstanceOf(
      WorkflowExecutionAlreadyStartedError,
    );
    await handle.terminate();
  });

  test('id reuse policy REJECT_DUPLICATE refuses a closed workflow id; ALLOW_DUPLICATE starts a new run', async () => {
    const workflowId = t.id('reuse');
    await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['one'] });
    await expect(
      t.env.client.workflow.start(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['two'], workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
    ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['three'] })).toBe('three');
  });

  test('id reuse policy ALLOW_DUPLICATE_FAILED_ONLY refuses after success and allows after failure', async () => {
    const succeeded = t.id('failed-only-ok');
    await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId: succeeded, args: ['ok'] });
    await expect(
      t.env.client.workflow.start(echoWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: succeeded,
        args: ['again'],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      }),
    ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);

    const failed = t.id('failed-only-failed');
    await expect(t.env.client.workflow.execute(failingWorkflow, { taskQueue: t.taskQueue, workflowId: failed, args: ['x'] })).rejects.toThrow();
    const again = await t.env.client.workflow.execute(echoWorkflow, {
      taskQueue: t.taskQueue,
      workflowId: failed,
      args: ['second chance'],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    expect(again).toBe('second chance');
  });

  test('conflict policy USE_EXISTING returns the running execution', async () => {
    const workflowId = t.id('use-existing');
    const first = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    const second = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId, workflowIdConflictPolicy: 'USE_EXISTING' });
    expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
    await first.terminate();
  });

  test('conflict policy TERMINATE_EXISTING terminates the running execution and starts a new one', async () => {
    const workflowId = t.id('terminate-existing');
    const first = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    const second = await t.env.client.workflow.start(echoWorkflow, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['replacement'],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    expect(await second.result()).toBe('replacement');
    const firstRun = t.env.client.workflow.getHandle(workflowId, first.firstExecutionRunId);
    expect((await firstRun.describe()).status.name).toBe('TERMINATED');
  });

  test('a workflow failing with an ApplicationFailure fails the execution with that failure', async () => {
    const error = await t.env.client.workflow
      .execute(failingWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('fail'), args: ['broken invariant'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('BusinessRuleViolation');
    expect(cause?.message).toBe('broken invariant');
  });

  test('terminating a workflow closes it as TERMINATED with the reason', async () => {
    const workflowId = t.id('terminate');
    const handle = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    await handle.terminate('no longer needed');
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure);
    expect((error as WorkflowFailedError).message).toBe('no longer needed');
    const events = await t.eventTypes(workflowId);
    expect(events[events.length - 1]).toBe('WorkflowExecutionTerminated');
    await expect(handle.terminate()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('cancelling a workflow writes WorkflowExecutionCancelRequested and the workflow ends CANCELED', async () => {
    const workflowId = t.id('cancel');
    const handle = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    await waitUntil(async () => (await t.eventTypes(workflowId)).includes('WorkflowTaskCompleted'));
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const events = await t.eventTypes(workflowId);
    expect(events).toContain('WorkflowExecutionCancelRequested');
    expect(events[events.length - 1]).toBe('WorkflowExecutionCanceled');
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  test('continue-as-new starts a new run that the client follows to the final result', async () => {
    const workflowId = t.id('can');
    const handle = await t.env.client.workflow.start(continueAsNewCounter, { taskQueue: t.taskQueue, workflowId, args: [0, 3] });
    const result = await handle.result();
    expect(result.count).toBe(3);
    expect(result.runId).not.toBe(handle.firstExecutionRunId);
    expect(result.continuedFrom).toBeTruthy();
    const firstRun = await t.eventTypes(workflowId, handle.firstExecutionRunId);
    expect(firstRun[firstRun.length - 1]).toBe('WorkflowExecutionContinuedAsNew');
    const description = await t.env.client.workflow.getHandle(workflowId).describe();
    expect(description.runId).toBe(result.runId);
    expect(description.status.name).toBe('COMPLETED');
  });

  test('a workflow run timeout closes the workflow as TIMED_OUT', async () => {
    const error = await t.env.client.workflow
      .execute(sleepingWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('run-timeout'), args: ['2 days'], workflowRunTimeout: '1 day' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure);
  });

  test('a workflow execution timeout closes the workflow as TIMED_OUT with that close event', async () => {
    const workflowId = t.id('execution-timeout');
    const error = await t.env.client.workflow
      .execute(sleepingWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['3 hours'], workflowExecutionTimeout: '1 hour' })
      .catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure);
    const events = await t.eventTypes(workflowId);
    expect(events[events.length - 1]).toBe('WorkflowExecutionTimedOut');
  });

  test('a workflow retry policy starts new attempts until one succeeds', async () => {
    const attempt = await t.env.client.workflow.execute(succeedsOnAttempt, {
      taskQueue: t.taskQueue,
      workflowId: t.id('wf-retry'),
      args: [3],
      retry: { initialInterval: '1 minute', maximumAttempts: 5 },
    });
    expect(attempt).toBe(3);
  });

  test('a workflow retry policy gives up after maximum attempts with the last failure', async () => {
    const error = await t.env.client.workflow
      .execute(succeedsOnAttempt, {
        taskQueue: t.taskQueue,
        workflowId: t.id('wf-retry-exhausted'),
        args: [10],
        retry: { initialInterval: '1 second', maximumAttempts: 2 },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toBe('attempt 2 failed');
    expect((error as WorkflowFailedError).retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
  });

  test('a start delay postpones the first workflow task', async () => {
    const workflowId = t.id('delay');
    const before = await t.env.currentTimeMs();
    const handle = await t.env.client.workflow.start(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['late'], startDelay: '2 hours' });
    expect(await t.eventTypes(workflowId)).toEqual(['WorkflowExecutionStarted']);
    expect(await handle.result()).toBe('late');
    expect((await t.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(2 * 3600_000);
  });

  test('describe reports status, type, task queue, memo and upserted search attributes', async () => {
    const workflowId = t.id('describe');
    const handle = await t.env.client.workflow.start(upsertingWorkflow, {
      taskQueue: t.taskQueue,
      workflowId,
      memo: { ticket: 'T-1' },
    });
    await waitUntil(async () => (await t.eventTypes(workflowId)).includes('UpsertWorkflowSearchAttributes'));
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.type).toBe('upsertingWorkflow');
    expect(description.taskQueue).toBe(t.taskQueue);
    expect(description.memo).toEqual({ ticket: 'T-1', approvedBy: 'ann' });
    expect(description.searchAttributes).toEqual({ CustomKeywordField: ['upserted'] });
    expect(await t.eventTypes(workflowId)).toContain('WorkflowPropertiesModified');
    await handle.terminate();
  });

  test('a deleted workflow execution is no longer found', async () => {
    const workflowId = t.id('delete');
    await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['bye'] });
    await t.env.client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
    await expect(t.env.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('operations on an unknown workflow id fail with WorkflowNotFoundError', async () => {
    const handle = t.env.client.workflow.getHandle('no-such-workflow');
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(handle.signal('anything')).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

describe('history and visibility', () => {
  test('history pages follow maximumPageSize and the next page token', async () => {
    const workflowId = t.id('paging');
    await t.env.client.workflow.execute(continueAsNewCounter, { taskQueue: t.taskQueue, workflowId, args: [5, 5] });
    const service = t.env.client.workflowService;
    const first = await service.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId }, maximumPageSize: 2 });
    expect(first.history?.events?.map((event) => Number(event.eventId))).toEqual([1, 2]);
    expect(first.nextPageToken?.length).toBeGreaterThan(0);
    const second = await service.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      maximumPageSize: 100,
      nextPageToken: first.nextPageToken,
    });
    expect(second.history?.events?.map((event) => Number(event.eventId))).toEqual([3, 4, 5]);
    expect(second.nextPageToken?.length ?? 0).toBe(0);
  });

  test('the close-event filter waits for the close and returns exactly that one event', async () => {
    const workflowId = t.id('close-filter');
    const handle = await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    const poll = t.env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId, runId: handle.firstExecutionRunId },
      waitNewEvent: true,
      historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await handle.terminate('closing');
    const events = (await poll).history?.events ?? [];
    expect(events).toHaveLength(1);
    expect(events[0]?.eventType).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  });

  test('a long poll on history returns new events as they are written', async () => {
    const workflowId = t.id('long-poll');
    await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId });
    await waitUntil(async () => (await t.eventTypes(workflowId)).includes('WorkflowTaskCompleted'));
    const service = t.env.client.workflowService;
    const current = await service.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId }, waitNewEvent: true });
    expect(current.nextPageToken?.length).toBeGreaterThan(0);
    const poll = service.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      waitNewEvent: true,
      nextPageToken: current.nextPageToken,
    });
    await t.env.client.workflow.getHandle(workflowId).terminate('done');
    const next = await poll;
    const types = (next.history?.events ?? []).map((event) => event.eventType);
    expect(types).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  });

  test('list filters by WorkflowType, ExecutionStatus, WorkflowId and StartTime', async () => {
    const running = t.id('list-running');
    const done = t.id('list-done');
    const startedAfter = new Date(await t.env.currentTimeMs() - 1000).toISOString();
    await t.env.client.workflow.start(waitForeverWorkflow, { taskQueue: t.taskQueue, workflowId: running });
    await t.env.client.workflow.execute(echoWorkflow, { taskQueue: t.taskQueue, workflowId: done, args: ['x'] });
    const ids = async (query: string): Promise<string[]> => {
      const found: string[] = [];
      for await (const execution of t.env.client.workflow.list({ query })) found.push(execution.workflowId);
      return found;
    };
    expect(await ids(`WorkflowType = 'waitForeverWorkflow' AND ExecutionStatus = 'Running' AND WorkflowId = '${running}'`)).toEqual([running]);
    expect(await ids(`WorkflowId IN ('${running}', '${done}') AND ExecutionStatus = 'Completed'`)).toEqual([done]);
    expect((await ids(`StartTime >= '${startedAfter}' AND WorkflowId STARTS_WITH '${t.id('x').split('-x-')[0]}-list'`)).sort()).toEqual(
      [running, done].sort(),
    );
    expect((await t.env.client.workflow.count(`WorkflowId = '${done}'`)).count).toBe(1);
    await t.env.client.workflow.getHandle(running).terminate();
  });
});
