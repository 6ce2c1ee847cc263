import { CompleteAsyncError, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { useServerTestEnv } from './harness';
import { cancelActivityAfter, runActivity } from './workflows';

/** Task tokens of activities completing asynchronously, by workflow id. */
const asyncTokens = new Map<string, Uint8Array>();

const activities = {
  async completeLater(): Promise<never> {
    const { taskToken, workflowExecution } = Context.current().info;
    asyncTokens.set(workflowExecution?.workflowId ?? '', taskToken);
    throw new CompleteAsyncError();
  },
  async succeedAfterFailures(failures: number): Promise<number> {
    const { attempt } = Context.current().info;
    if (attempt <= failures) throw ApplicationFailure.create({ message: `attempt ${attempt} failed`, type: 'Flaky' });
    return attempt;
  },
  async failWithType(type: string): Promise<never> {
    throw ApplicationFailure.create({ message: `failed with ${type}`, type });
  },
  async failNonRetryable(): Promise<never> {
    throw ApplicationFailure.create({ message: 'permanently broken', nonRetryable: true });
  },
  /** Hangs on the first attempt (longer than any timeout in these tests); answers on later ones. */
  async hangOnFirstAttempt(): Promise<number> {
    const context = Context.current();
    if (context.info.attempt === 1) await context.sleep(10_000);
    return context.info.attempt;
  },
  /** Heartbeats progress once and hangs on the first attempt; later attempts return the recorded progress. */
  async heartbeatThenHang(): Promise<unknown> {
    const context = Context.current();
    if (context.info.attempt === 1) {
      context.heartbeat({ progress: 42 });
      await context.sleep(10_000);
      return 'not reached';
    }
    return context.info.heartbeatDetails;
  },
  /** Heartbeats until cancelled, then reports the cancellation. */
  async heartbeatUntilCancelled(): Promise<string> {
    const context = Context.current();
    for (;;) {
      context.heartbeat();
      await context.sleep(50);
    }
  },
  async slowActivity(ms: number): Promise<string> {
    await Context.current().sleep(ms);
    return 'slow done';
  },
};

const t = useServerTestEnv('activities', activities);

function run(workflowId: string, name: keyof typeof activities, args: unknown[], options: Parameters<typeof runActivity>[2]) {
  return t.env.client.workflow.execute(runActivity, { taskQueue: t.taskQueue, workflowId, args: [name, args, options] });
}

describe('activities', () => {
  test('a failing activity is retried per its retry policy and its result is the successful attempt', async () => {
    const workflowId = t.id('retry');
    const outcome = await run(workflowId, 'succeedAfterFailures', [2], {
      startToCloseTimeout: '10 s',
      retry: { initialInterval: '1 minute', backoffCoefficient: 2 },
    });
    expect(outcome.result).toBe(3);
    // Retries write no events; ActivityTaskStarted is written with the completion, carrying the attempt.
    const events = await t.history(workflowId);
    const types = events.map((event) => event.eventType);
    const started = events.find((event) => event.activityTaskStartedEventAttributes);
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(3);
    expect(started?.activityTaskStartedEventAttributes?.lastFailure?.message).toBe('attempt 2 failed');
    const startedIndex = events.indexOf(started!);
    expect(events[startedIndex + 1]?.activityTaskCompletedEventAttributes).toBeTruthy();
    expect(types.filter((type) => type === events[startedIndex]!.eventType)).toHaveLength(1);
  });

  test('the retry backoff grows by the coefficient up to the maximum interval (in virtual time)', async () => {
    const before = await t.env.currentTimeMs();
    const outcome = await run(t.id('backoff'), 'succeedAfterFailures', [4], {
      startToCloseTimeout: '10 s',
      retry: { initialInterval: '1 hour', backoffCoefficient: 3, maximumInterval: '5 hours' },
    });
    expect(outcome.result).toBe(5);
    // 1 h + 3 h + 5 h (capped) + 5 h (capped) of backoff.
    const elapsedHours = ((await t.env.currentTimeMs()) - before) / 3_600_000;
    expect(elapsedHours).toBeGreaterThanOrEqual(14);
    expect(elapsedHours).toBeLessThan(14.1);
  });

  test('an activity failing with a non-retryable error type fails at the first attempt', async () => {
    const outcome = await run(t.id('non-retryable-type'), 'failWithType', ['InvalidSparePart'], {
      startToCloseTimeout: '10 s',
      retry: { nonRetryableErrorTypes: ['InvalidSparePart'] },
    });
    expect(outcome.failure).toMatchObject({ causeType: 'InvalidSparePart', retryState: 'NON_RETRYABLE_FAILURE' });
  });

  test('an ApplicationFailure marked non-retryable is not retried', async () => {
    const outcome = await run(t.id('non-retryable-flag'), 'failNonRetryable', [], { startToCloseTimeout: '10 s' });
    expect(outcome.failure).toMatchObject({ causeMessage: 'permanently broken', retryState: 'NON_RETRYABLE_FAILURE' });
  });

  test('an activity stops after maximum attempts with MAXIMUM_ATTEMPTS_REACHED', async () => {
    const workflowId = t.id('max-attempts');
    const outcome = await run(workflowId, 'failWithType', ['Flaky'], { startToCloseTimeout: '10 s', retry: { maximumAttempts: 3 } });
    expect(outcome.failure).toMatchObject({ causeType: 'Flaky', retryState: 'MAXIMUM_ATTEMPTS_REACHED' });
    const started = (await t.history(workflowId)).find((event) => event.activityTaskStartedEventAttributes);
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(3);
  });

  test('retries stop with TIMEOUT when the next backoff would pass the schedule-to-close deadline', async () => {
    const outcome = await run(t.id('schedule-to-close-retries'), 'failWithType', ['Flaky'], {
      startToCloseTimeout: '10 s',
      scheduleToCloseTimeout: '1 hour',
      retry: { initialInterval: '10 minutes', backoffCoefficient: 2 },
    });
    expect(outcome.failure).toMatchObject({ causeType: 'Flaky', retryState: 'TIMEOUT' });
  });

  test('a start-to-close timeout fails the attempt and the activity is retried', async () => {
    const outcome = await run(t.id('start-to-close'), 'hangOnFirstAttempt', [], {
      startToCloseTimeout: '2 s',
      retry: { initialInterval: '1 s' },
    });
    // Attempt 2 answers at once (a very loaded machine could still time it out and need attempt 3).
    expect(outcome.result).toBeGreaterThanOrEqual(2);
  });

  test('a start-to-close timeout on the last attempt fails the activity with a TimeoutFailure', async () => {
    const workflowId = t.id('start-to-close-final');
    const outcome = await run(workflowId, 'hangOnFirstAttempt', [], { startToCloseTimeout: '1 s', retry: { maximumAttempts: 1 } });
    expect(outcome.failure).toMatchObject({ causeType: 'TimeoutFailure', retryState: 'MAXIMUM_ATTEMPTS_REACHED' });
    expect(await t.eventTypes(workflowId)).toContain('ActivityTaskTimedOut');
  });

  test('a heartbeat timeout fails the attempt and the next attempt sees the last heartbeat details', async () => {
    const outcome = await run(t.id('heartbeat'), 'heartbeatThenHang', [], {
      startToCloseTimeout: '1 minute',
      heartbeatTimeout: '2 s',
      retry: { initialInterval: '1 s' },
    });
    expect(outcome.result).toEqual({ progress: 42 });
  });

  test('a schedule-to-close timeout fails a running activity without retry', async () => {
    const outcome = await run(t.id('schedule-to-close'), 'slowActivity', [5_000], {
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: '1 s',
    });
    expect(outcome.failure).toMatchObject({ causeType: 'TimeoutFailure', retryState: 'TIMEOUT' });
  });

  test('a schedule-to-start timeout fails an activity no worker picks up', async () => {
    const workflowId = t.id('schedule-to-start');
    const outcome = await run(workflowId, 'slowActivity', [1], {
      taskQueue: 'a-queue-nobody-polls',
      startToCloseTimeout: '1 minute',
      scheduleToStartTimeout: '500 ms',
    });
    expect(outcome.failure).toMatchObject({ causeType: 'TimeoutFailure', retryState: 'TIMEOUT' });
    const timedOut = (await t.history(workflowId)).find((event) => event.activityTaskTimedOutEventAttributes);
    expect(Number(timedOut?.activityTaskTimedOutEventAttributes?.startedEventId)).toBe(0);
  });

  test('cancelling a running activity is delivered through its heartbeat and ends ActivityTaskCanceled', async () => {
    const workflowId = t.id('cancel-running');
    const outcome = await t.env.client.workflow.execute(cancelActivityAfter, {
      taskQueue: t.taskQueue,
      workflowId,
      // The SDK sends heartbeats at most every 80 % of the heartbeat timeout: a generous timeout keeps a
      // loaded machine from timing the activity out before the cancellation is delivered.
      args: ['heartbeatUntilCancelled', '300 ms', { startToCloseTimeout: '1 minute', heartbeatTimeout: '4 s', cancellationType: 'WAIT_CANCELLATION_COMPLETED' }],
    });
    expect(outcome).toBe('cancelled');
    const types = await t.eventTypes(workflowId);
    expect(types).toEqual(expect.arrayContaining(['ActivityTaskCancelRequested', 'ActivityTaskStarted', 'ActivityTaskCanceled']));
    expect(types.indexOf('ActivityTaskCancelRequested')).toBeLessThan(types.indexOf('ActivityTaskCanceled'));
  });

  test('cancelling an activity that has not started cancels it at once, without a started event', async () => {
    const workflowId = t.id('cancel-scheduled');
    const outcome = await t.env.client.workflow.execute(cancelActivityAfter, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['slowActivity', '200 ms', { taskQueue: 'another-queue-nobody-polls', startToCloseTimeout: '1 minute', cancellationType: 'WAIT_CANCELLATION_COMPLETED' }],
    });
    expect(outcome).toBe('cancelled');
    const types = await t.eventTypes(workflowId);
    expect(types).toEqual(expect.arrayContaining(['ActivityTaskCancelRequested', 'ActivityTaskCanceled']));
    expect(types).not.toContain('ActivityTaskStarted');
  });

  test('describe lists a pending activity with its attempt and last failure', async () => {
    const workflowId = t.id('pending');
    const handle = await t.env.client.workflow.start(runActivity, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['failWithType', ['Flaky'], { startToCloseTimeout: '10 s', retry: { initialInterval: '1 day' } }],
    });
    let pending;
    for (let i = 0; i < 100 && !pending?.lastFailure; i++) {
      pending = (await handle.describe()).raw.pendingActivities?.[0];
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(pending?.activityType?.name).toBe('failWithType');
    expect(pending?.attempt).toBe(2);
    expect(pending?.lastFailure?.message).toBe('failed with Flaky');
    await handle.terminate();
  });

  test('an activity completed asynchronously by task token delivers that result', async () => {
    const workflowId = t.id('async-token');
    const handle = await t.env.client.workflow.start(runActivity, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['completeLater', [], { startToCloseTimeout: '1 minute' }],
    });
    while (!asyncTokens.has(workflowId)) await new Promise((resolve) => setTimeout(resolve, 20));
    await t.env.client.activity.heartbeat(asyncTokens.get(workflowId)!, 'still working');
    await t.env.client.activity.complete(asyncTokens.get(workflowId)!, 'done by token');
    expect((await handle.result()).result).toBe('done by token');
  });

  test('an activity completed asynchronously by workflow and activity id delivers that result', async () => {
    const workflowId = t.id('async-id');
    const handle = await t.env.client.workflow.start(runActivity, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['completeLater', [], { startToCloseTimeout: '1 minute', activityId: 'approval-mail', retry: { maximumAttempts: 1 } }],
    });
    while (!asyncTokens.has(workflowId)) await new Promise((resolve) => setTimeout(resolve, 20));
    await t.env.client.activity.heartbeat({ workflowId, activityId: 'approval-mail' });
    await t.env.client.activity.fail({ workflowId, activityId: 'approval-mail' }, new Error('rejected by mail'));
    const outcome = await handle.result();
    expect(outcome.failure?.causeMessage).toBe('rejected by mail');
  });
});
