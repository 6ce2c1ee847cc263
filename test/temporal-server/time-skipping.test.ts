import { Context } from '@temporalio/activity';
import { useServerTestEnv } from './harness';
import {
  activityBesideTimer,
  cancelledTimerWorkflow,
  proceedSignal,
  runActivity,
  sleepingWorkflow,
  stateQuery,
  timerStateWorkflow,
  workflowClockWorkflow,
} from './workflows';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Attempts of `workWallClock` per workflow id. */
const wallClockAttempts = new Map<string, number>();

const t = useServerTestEnv('time', {
  /** Works `ms` of wall-clock time (heartbeating every `heartbeatEveryMs` when given); returns the virtual time that passed meanwhile. */
  async workWallClock(ms: number, heartbeatEveryMs?: number): Promise<number> {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    wallClockAttempts.set(workflowId, (wallClockAttempts.get(workflowId) ?? 0) + 1);
    const before = await t.env.currentTimeMs();
    const end = Date.now() + ms;
    while (Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(heartbeatEveryMs ?? ms, end - Date.now())));
      if (heartbeatEveryMs !== undefined) Context.current().heartbeat();
    }
    return (await t.env.currentTimeMs()) - before;
  },
  /** Sleeps in server time from inside an activity (TestWorkflowEnvironment.sleep). */
  async sleepInServerTime(ms: number): Promise<number> {
    const before = await t.env.currentTimeMs();
    await t.env.sleep(ms);
    Context.current().heartbeat();
    return (await t.env.currentTimeMs()) - before;
  },
});

describe('timers and time skipping', () => {
  test('a 30-day timer completes instantly under time skipping', async () => {
    const realStart = Date.now();
    const before = await t.env.currentTimeMs();
    expect(await t.env.client.workflow.execute(sleepingWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('30-days'), args: ['30 days'] })).toBe(
      'woke up',
    );
    expect((await t.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(30 * DAY);
    expect(Date.now() - realStart).toBeLessThan(5_000);
  });

  test('timer events carry the timer id and the started event id', async () => {
    const workflowId = t.id('timer-events');
    await t.env.client.workflow.execute(sleepingWorkflow, { taskQueue: t.taskQueue, workflowId, args: ['2 hours'] });
    const events = await t.history(workflowId);
    const started = events.find((event) => event.timerStartedEventAttributes)!;
    const fired = events.find((event) => event.timerFiredEventAttributes)!;
    expect(fired.timerFiredEventAttributes?.timerId).toBe(started.timerStartedEventAttributes?.timerId);
    expect(Number(fired.timerFiredEventAttributes?.startedEventId)).toBe(Number(started.eventId));
    const firedAt = Number(fired.eventTime?.seconds) - Number(started.eventTime?.seconds);
    expect(firedAt).toBeGreaterThanOrEqual(2 * 3600);
  });

  test('workflow time (Date.now) follows the virtual clock', async () => {
    const { before, after } = await t.env.client.workflow.execute(workflowClockWorkflow, {
      taskQueue: t.taskQueue,
      workflowId: t.id('clock'),
      args: ['7 days'],
    });
    expect(after - before).toBeGreaterThanOrEqual(7 * DAY);
  });

  test('a cancelled timer writes TimerCanceled and never fires', async () => {
    const workflowId = t.id('cancel-timer');
    expect(await t.env.client.workflow.execute(cancelledTimerWorkflow, { taskQueue: t.taskQueue, workflowId })).toBe('cancelled');
    const types = await t.eventTypes(workflowId);
    expect(types).toContain('TimerCanceled');
    // Only the one-second timer fires.
    expect(types.filter((type) => type === 'TimerFired')).toHaveLength(1);
  });

  test('time does not skip while skipping is locked (no result awaited)', async () => {
    const handle = await t.env.client.workflow.start(timerStateWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('locked') });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await handle.query(stateQuery)).toBe('waiting');
    await handle.terminate();
  });

  test('TestWorkflowEnvironment.sleep advances time and fires the timers due on the way', async () => {
    const handle = await t.env.client.workflow.start(timerStateWorkflow, { taskQueue: t.taskQueue, workflowId: t.id('env-sleep') });
    const before = await t.env.currentTimeMs();
    await t.env.sleep(2 * HOUR);
    expect((await t.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(2 * HOUR);
    expect(await handle.query(stateQuery)).toBe('timer fired');
    await handle.signal(proceedSignal);
    await handle.result();
  });

  test('an activity can sleep in server time with TestWorkflowEnvironment.sleep', async () => {
    const outcome = await t.env.client.workflow.execute(runActivity, {
      taskQueue: t.taskQueue,
      workflowId: t.id('activity-sleep'),
      args: ['sleepInServerTime', [DAY], { startToCloseTimeout: '2 days' }],
    });
    expect(outcome.result).toBeGreaterThanOrEqual(DAY);
  });

  // As Temporal's Java test server: an activity task holds a time-skipping lock from scheduled to
  // completed, so neither an awaited result nor TestWorkflowEnvironment.sleep jumps past its timeouts.
  test.each([
    ['without heartbeats', undefined, {}],
    ['heartbeating (a heartbeat does not release the lock)', 300, { heartbeatTimeout: '1 s' }],
  ])('a 2 s activity beside a 30-day timer runs exactly once while TestWorkflowEnvironment.sleep skips 31 days (%s)', async (_case, heartbeatEveryMs, options) => {
    const workflowId = t.id('activity-lock');
    const handle = await t.env.client.workflow.start(activityBesideTimer, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['workWallClock', [2_000, heartbeatEveryMs], { startToCloseTimeout: '10 minutes', ...options }, '30 days'],
    });
    const before = await t.env.currentTimeMs();
    await t.env.sleep(31 * DAY);
    expect((await t.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(31 * DAY);
    const virtualTimeDuringActivity = (await handle.result()) as number;
    expect(wallClockAttempts.get(workflowId)).toBe(1);
    // No skipping while the activity ran: only wall-clock time passed in it.
    expect(virtualTimeDuringActivity).toBeLessThan(60_000);
    const types = await t.eventTypes(workflowId);
    expect(types.filter((type) => type === 'ActivityTaskStarted')).toHaveLength(1);
    expect(types).not.toContain('ActivityTaskTimedOut');
  });

  test('an awaited result does not skip past a running activity either', async () => {
    const workflowId = t.id('activity-lock-result');
    const virtualTimeDuringActivity = await t.env.client.workflow.execute(activityBesideTimer, {
      taskQueue: t.taskQueue,
      workflowId,
      args: ['workWallClock', [1_500], { startToCloseTimeout: '10 minutes' }, '30 days'],
    });
    expect(wallClockAttempts.get(workflowId)).toBe(1);
    expect(virtualTimeDuringActivity).toBeLessThan(60_000);
  });

  test('getCurrentTime never goes backwards', async () => {
    const first = await t.env.currentTimeMs();
    await t.env.sleep(1000);
    const second = await t.env.currentTimeMs();
    expect(second).toBeGreaterThanOrEqual(first + 1000);
  });
});
