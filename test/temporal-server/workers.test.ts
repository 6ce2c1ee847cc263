import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import Long from 'long';
import { temporal } from '@temporalio/proto';
import { eventTypeName, useServerTestEnv, workflowBundle } from './harness';
import { echoWorkflow, failsFirstTaskWorkflow, patchedWorkflow, proceedSignal, stateQuery, timerStateWorkflow, twoStepWorkflow } from './workflows';

const t = useServerTestEnv('workers');

async function waitForEvent(workflowId: string, eventType: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await t.eventTypes(workflowId)).includes(eventType)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${eventType} not reached`);
}

describe('workers', () => {
  test('patched() records a marker and takes the new branch', async () => {
    const workflowId = t.id('patched');
    expect(await t.env.client.workflow.execute(patchedWorkflow, { taskQueue: t.taskQueue, workflowId })).toBe('new pricing');
    const marker = (await t.history(workflowId)).find((event) => event.markerRecordedEventAttributes);
    expect(marker?.markerRecordedEventAttributes?.markerName).toBe('core_patch');
  });

  test('a history from this server replays without nondeterminism', async () => {
    const workflowId = t.id('replay');
    await t.env.client.workflow.execute(patchedWorkflow, { taskQueue: t.taskQueue, workflowId });
    const history = await t.env.client.workflow.getHandle(workflowId).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId)).resolves.toBeUndefined();
  });

  test('a workflow task that throws is retried as a new workflow task and the workflow proceeds', async () => {
    const workflowId = t.id('task-failure');
    expect(await t.env.client.workflow.execute(failsFirstTaskWorkflow, { taskQueue: t.taskQueue, workflowId })).toBe(1);
    const failed = (await t.history(workflowId)).find((event) => event.workflowTaskFailedEventAttributes);
    expect(failed?.workflowTaskFailedEventAttributes?.failure?.message).toBe('transient bug in the first workflow task');
    const rescheduled = (await t.history(workflowId)).filter((event) => event.workflowTaskScheduledEventAttributes);
    expect(rescheduled[1]?.workflowTaskScheduledEventAttributes?.attempt).toBe(2);
  });

  test('each WorkflowTaskCompleted references its own scheduled and started events', async () => {
    const workflowId = t.id('ids');
    const handle = await t.env.client.workflow.start(timerStateWorkflow, { taskQueue: t.taskQueue, workflowId });
    await waitForEvent(workflowId, 'TimerStarted');
    await handle.signal(proceedSignal);
    await t.env.sleep(2 * 3_600_000);
    await handle.result();
    const events = await t.history(workflowId);
    const completed = events.filter((event) => event.workflowTaskCompletedEventAttributes);
    for (const event of completed) {
      const attributes = event.workflowTaskCompletedEventAttributes!;
      const started = events[Number(attributes.startedEventId) - 1]!;
      expect(started.eventType).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      expect(Number(started.workflowTaskStartedEventAttributes?.scheduledEventId)).toBe(Number(attributes.scheduledEventId));
      // Each task completes right after it started.
      expect(Number(event.eventId)).toBe(Number(attributes.startedEventId) + 1);
    }
  });

  test('eager workflow start: a client sharing the worker\'s NativeConnection gets the first workflow task in its start answer', async () => {
    const client = new Client({ connection: t.env.nativeConnection });
    const workflowId = t.id('eager');
    const handle = await client.workflow.start(echoWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['eager'], requestEagerStart: true });
    expect(handle.eagerlyStarted).toBe(true);
    expect(await handle.result()).toBe('eager');
    expect((await t.eventTypes(workflowId)).slice(0, 4)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowTaskScheduled',
      'WorkflowTaskStarted',
      'WorkflowTaskCompleted',
    ]);
  });

  test('eager workflow start answers a started task with the full history; the caller completes it', async () => {
    const service = t.env.connection.workflowService;
    const workflowId = t.id('eager-raw');
    const started = await service.startWorkflowExecution({
      namespace: 'default',
      workflowId,
      workflowType: { name: 'rawEagerWorkflow' },
      taskQueue: { name: `${t.taskQueue}-eager-nobody-polls` },
      identity: 'eager-starter',
      requestId: randomUUID(),
      requestEagerExecution: true,
    });
    const task = started.eagerWorkflowTask;
    expect(started.started).toBe(true);
    expect(task?.workflowExecution).toMatchObject({ workflowId, runId: started.runId });
    expect(task?.history?.events?.map(eventTypeName)).toEqual(['WorkflowExecutionStarted', 'WorkflowTaskScheduled', 'WorkflowTaskStarted']);
    expect(task?.history?.events?.[2]?.workflowTaskStartedEventAttributes?.identity).toBe('eager-starter');
    await service.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task?.taskToken,
      identity: 'eager-starter',
      commands: [{ commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }],
    });
    expect((await t.eventTypes(workflowId)).pop()).toBe('WorkflowExecutionCompleted');
  });

  test('eager workflow start is not offered with a start delay (as the real server): the first task goes to the queue', async () => {
    const service = t.env.connection.workflowService;
    const workflowId = t.id('eager-delayed');
    const started = await service.startWorkflowExecution({
      namespace: 'default',
      workflowId,
      workflowType: { name: 'rawEagerWorkflow' },
      taskQueue: { name: `${t.taskQueue}-eager-nobody-polls` },
      requestId: randomUUID(),
      requestEagerExecution: true,
      workflowStartDelay: { seconds: Long.fromNumber(60) },
    });
    expect(started.started).toBe(true);
    expect(started.eagerWorkflowTask).toBeFalsy();
    expect(await t.eventTypes(workflowId)).toEqual(['WorkflowExecutionStarted']);
    await t.env.client.workflow.getHandle(workflowId).terminate();
  });

  test('a workflow continues on a new worker after its worker shut down', async () => {
    const workflowId = t.id('handover');
    const handle = await t.env.client.workflow.start(twoStepWorkflow, { taskQueue: t.taskQueue, workflowId });
    await waitForEvent(workflowId, 'WorkflowTaskCompleted');
    await t.stopSharedWorker();
    await handle.signal(proceedSignal);
    const replacement = await t.createWorker();
    const result = await replacement.runUntil(handle.result());
    expect(result).toEqual(['first', 'second']);
  });

  test('a query sent while a workflow task is scheduled is answered through that task', async () => {
    const queue = `${t.taskQueue}-late`;
    const handle = await t.env.client.workflow.start(timerStateWorkflow, { taskQueue: queue, workflowId: t.id('queries-map') });
    const answer = handle.query(stateQuery);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const worker = await t.createWorker(queue);
    expect(await worker.runUntil(answer)).toBe('waiting');
    await handle.terminate();
  });

  test('a query is answered by a new worker that has no cached state', async () => {
    const handle = await t.env.client.workflow.start(timerStateWorkflow, { taskQueue: `${t.taskQueue}-fresh`, workflowId: t.id('fresh-query') });
    const first = await t.createWorker(`${t.taskQueue}-fresh`);
    await first.runUntil(waitForEvent(handle.workflowId, 'TimerStarted'));
    const second = await t.createWorker(`${t.taskQueue}-fresh`);
    expect(await second.runUntil(handle.query(stateQuery))).toBe('waiting');
    await handle.terminate();
  });
});
