import { temporal } from '@temporalio/proto';
import { duration } from '../../worker/local-temporal/engine/convert';
import { eventTypeName, useServerTestEnv } from './harness';
import { proceedSignal, stateQuery, timerStateWorkflow, twoStepWorkflow } from './workflows';

const t = useServerTestEnv('sticky-queues');

const TaskQueueKind = temporal.api.enums.v1.TaskQueueKind;
const CommandType = temporal.api.enums.v1.CommandType;
type PollResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;

async function waitForEvent(workflowId: string, eventType: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await t.eventTypes(workflowId)).includes(eventType)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${eventType} not reached`);
}

/**
 * A hand-driven worker: polls and answers through the raw WorkflowService, so a test controls
 * exactly which queue is polled and what the completion says.
 */
function rawWorker(name: string) {
  const service = () => t.env.connection.workflowService;
  const normalQueue = `${t.taskQueue}-${name}`;
  const stickyQueue = `${normalQueue}-sticky-worker`;
  return {
    normalQueue,
    stickyQueue,
    poll: async (sticky: boolean): Promise<PollResponse> => {
      const response = await service().pollWorkflowTaskQueue({
        namespace: t.env.namespace ?? 'default',
        taskQueue: sticky
          ? { name: stickyQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: normalQueue }
          : { name: normalQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        identity: `raw-${name}`,
      });
      expect(response.taskToken?.length ?? 0).toBeGreaterThan(0);
      return response;
    },
    /** A sticky poll given up at once: the sticky worker counts as present for a while, but takes nothing. */
    touchSticky: async (): Promise<void> => {
      const controller = new AbortController();
      const poll = t.env.connection.withAbortSignal(controller.signal, () =>
        service().pollWorkflowTaskQueue({
          namespace: t.env.namespace ?? 'default',
          taskQueue: { name: stickyQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: normalQueue },
          identity: `raw-${name}`,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      await poll.catch(() => undefined);
    },
    complete: async (task: PollResponse, options: { stickyTimeoutSeconds?: number; finish?: boolean } = {}): Promise<void> => {
      await service().respondWorkflowTaskCompleted({
        namespace: t.env.namespace ?? 'default',
        taskToken: task.taskToken,
        identity: `raw-${name}`,
        commands: options.finish
          ? [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }]
          : [],
        stickyAttributes:
          options.stickyTimeoutSeconds !== undefined
            ? {
                workerTaskQueue: { name: stickyQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: normalQueue },
                scheduleToStartTimeout: duration(options.stickyTimeoutSeconds * 1000),
              }
            : null,
      });
    },
  };
}

function eventIds(task: PollResponse): number[] {
  return (task.history?.events ?? []).map((event) => Number(event.eventId));
}

function eventNames(task: PollResponse): string[] {
  return (task.history?.events ?? []).map(eventTypeName);
}

describe('sticky queues', () => {
  test('a workflow task after the first goes to the worker sticky queue with only the new events', async () => {
    const worker = rawWorker('partial');
    const workflowId = t.id('partial');
    const handle = await t.env.client.workflow.start('rawWorkflow', { taskQueue: worker.normalQueue, workflowId });
    const first = await worker.poll(false);
    expect(eventIds(first)).toEqual([1, 2, 3]);
    expect(Number(first.previousStartedEventId)).toBe(0);
    expect(Number(first.startedEventId)).toBe(3);
    await worker.complete(first, { stickyTimeoutSeconds: 10 });

    const polling = worker.poll(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await handle.signal(proceedSignal);
    const second = await polling;
    expect(eventNames(second)).toEqual(['WorkflowTaskCompleted', 'WorkflowExecutionSignaled', 'WorkflowTaskScheduled', 'WorkflowTaskStarted']);
    expect(eventIds(second)).toEqual([4, 5, 6, 7]);
    expect(Number(second.previousStartedEventId)).toBe(3);
    expect(Number(second.startedEventId)).toBe(7);
    expect(second.workflowExecutionTaskQueue?.name).toBe(worker.normalQueue);
    const scheduled = second.history!.events![2]!.workflowTaskScheduledEventAttributes!;
    expect(scheduled.taskQueue?.name).toBe(worker.stickyQueue);
    expect(scheduled.taskQueue?.kind).toBe(TaskQueueKind.TASK_QUEUE_KIND_STICKY);
    await worker.complete(second, { finish: true });
    await handle.result();
  });

  test('a sticky task not picked up in time falls back to the normal queue with the full history', async () => {
    const worker = rawWorker('timeout');
    const workflowId = t.id('timeout');
    const handle = await t.env.client.workflow.start('rawWorkflow', { taskQueue: worker.normalQueue, workflowId });
    await worker.complete(await worker.poll(false), { stickyTimeoutSeconds: 1 });
    await worker.touchSticky();
    await handle.signal(proceedSignal);

    const startedAt = Date.now();
    const fallback = await worker.poll(false);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(500);
    expect(eventNames(fallback)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowTaskScheduled',
      'WorkflowTaskStarted',
      'WorkflowTaskCompleted',
      'WorkflowExecutionSignaled',
      'WorkflowTaskScheduled',
      'WorkflowTaskTimedOut',
      'WorkflowTaskScheduled',
      'WorkflowTaskStarted',
    ]);
    const events = fallback.history!.events!;
    expect(events[6]!.workflowTaskTimedOutEventAttributes?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
    expect(events[7]!.workflowTaskScheduledEventAttributes?.taskQueue?.kind).toBe(TaskQueueKind.TASK_QUEUE_KIND_NORMAL);
    expect(Number(fallback.previousStartedEventId)).toBe(3);
    expect(Number(fallback.startedEventId)).toBe(9);
    // Completing without sticky attributes keeps the run on the normal queue.
    await worker.complete(fallback);
    await handle.signal(proceedSignal);
    const next = await worker.poll(false);
    expect(eventIds(next)[0]).toBe(1);
    await worker.complete(next, { finish: true });
    await handle.result();
  });

  test('a sticky queue that nobody polls is skipped: the task goes to the normal queue at once', async () => {
    const worker = rawWorker('unpolled');
    const handle = await t.env.client.workflow.start('rawWorkflow', { taskQueue: worker.normalQueue, workflowId: t.id('unpolled') });
    await worker.complete(await worker.poll(false), { stickyTimeoutSeconds: 60 });
    await handle.signal(proceedSignal);
    const next = await worker.poll(false);
    expect(eventIds(next)[0]).toBe(1);
    expect(eventNames(next)).not.toContain('WorkflowTaskTimedOut');
    expect(next.history!.events![5]!.workflowTaskScheduledEventAttributes?.taskQueue?.kind).toBe(TaskQueueKind.TASK_QUEUE_KIND_NORMAL);
    await worker.complete(next, { finish: true });
    await handle.result();
  });

  test('ResetStickyTaskQueue and ShutdownWorker send a waiting sticky task to the normal queue at once', async () => {
    const worker = rawWorker('reset');
    const handle = await t.env.client.workflow.start('rawWorkflow', { taskQueue: worker.normalQueue, workflowId: t.id('reset') });
    await worker.complete(await worker.poll(false), { stickyTimeoutSeconds: 60 });
    await worker.touchSticky();
    await handle.signal(proceedSignal);
    await t.env.connection.workflowService.resetStickyTaskQueue({
      namespace: t.env.namespace ?? 'default',
      execution: { workflowId: handle.workflowId },
    });
    const afterReset = await worker.poll(false);
    expect(eventIds(afterReset)[0]).toBe(1);
    // Scheduled on the sticky queue, taken from the normal one.
    expect(afterReset.history!.events![5]!.workflowTaskScheduledEventAttributes?.taskQueue?.kind).toBe(TaskQueueKind.TASK_QUEUE_KIND_STICKY);
    expect(eventNames(afterReset)).not.toContain('WorkflowTaskTimedOut');
    await worker.complete(afterReset, { stickyTimeoutSeconds: 60 });

    await worker.touchSticky();
    await handle.signal(proceedSignal);
    await t.env.connection.workflowService.shutdownWorker({
      namespace: t.env.namespace ?? 'default',
      stickyTaskQueue: worker.stickyQueue,
      identity: 'raw-reset',
      reason: 'test',
    });
    const afterShutdown = await worker.poll(false);
    expect(eventIds(afterShutdown)[0]).toBe(1);
    expect(eventNames(afterShutdown)).not.toContain('WorkflowTaskTimedOut');
    await worker.complete(afterShutdown, { finish: true });
    await handle.result();
  });

  test('a failed sticky workflow task is retried on the normal queue with the full history', async () => {
    const worker = rawWorker('failure');
    const handle = await t.env.client.workflow.start('rawWorkflow', { taskQueue: worker.normalQueue, workflowId: t.id('failure') });
    await worker.complete(await worker.poll(false), { stickyTimeoutSeconds: 60 });
    const polling = worker.poll(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await handle.signal(proceedSignal);
    const sticky = await polling;
    expect(eventIds(sticky)[0]).toBe(4);
    await t.env.connection.workflowService.respondWorkflowTaskFailed({
      namespace: t.env.namespace ?? 'default',
      taskToken: sticky.taskToken,
      cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
      identity: 'raw-failure',
    });
    const retry = await worker.poll(false);
    expect(eventIds(retry)[0]).toBe(1);
    expect(retry.attempt).toBe(2);
    expect(Number(retry.previousStartedEventId)).toBe(3);
    await worker.complete(retry, { finish: true });
    await handle.result();
  });

  test('the SDK worker gets its later workflow tasks on its sticky queue', async () => {
    const workflowId = t.id('sdk');
    const handle = await t.env.client.workflow.start(twoStepWorkflow, { taskQueue: t.taskQueue, workflowId });
    await waitForEvent(workflowId, 'WorkflowTaskCompleted');
    await handle.signal(proceedSignal);
    expect(await handle.result()).toEqual(['first', 'second']);
    const kinds = (await t.history(workflowId))
      .filter((event) => event.workflowTaskScheduledEventAttributes)
      .map((event) => event.workflowTaskScheduledEventAttributes!.taskQueue?.kind);
    expect(kinds.length).toBeGreaterThanOrEqual(3);
    expect(kinds[0]).toBe(TaskQueueKind.TASK_QUEUE_KIND_NORMAL);
    expect(kinds.slice(1).every((kind) => kind === TaskQueueKind.TASK_QUEUE_KIND_STICKY)).toBe(true);
    expect(await t.eventTypes(workflowId)).not.toContain('WorkflowTaskTimedOut');
  });

  test('a query on a sticky run is answered', async () => {
    const handle = await t.env.client.workflow.start(timerStateWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('query') });
    await waitForEvent(handle.workflowId, 'TimerStarted');
    expect(await handle.query(stateQuery)).toBe('waiting');
    await handle.terminate();
  });

  test('a new worker takes over a workflow after the sticky worker shut down', async () => {
    const queue = `${t.taskQueue}-takeover`;
    const workflowId = t.id('takeover');
    const handle = await t.env.client.workflow.start(twoStepWorkflow, { taskQueue: queue, workflowId });
    const first = await t.createWorker(queue);
    await first.runUntil(waitForEvent(workflowId, 'WorkflowTaskCompleted'));
    await handle.signal(proceedSignal);
    const second = await t.createWorker(queue);
    expect(await second.runUntil(handle.result())).toEqual(['first', 'second']);
    // The shut-down worker's sticky queue was given up at once, not after a schedule-to-start timeout.
    expect(await t.eventTypes(workflowId)).not.toContain('WorkflowTaskTimedOut');
  });
});
