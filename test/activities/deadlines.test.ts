import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { createDeadlineActivities } from '../../activities/shared/deadlines';
import type { Db } from '../../db';
import { createCalendarProvider, findCalendarYear, replaceCalendarYear } from '../../db/repositories/calendar';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { eventually } from '../support/probes';
import { createTestEnv } from '../support/temporal';
import { finishSignal, promiseDeadline } from './workflows/promise-deadline';

/** Declares an extra holiday on Monday 2026-10-12, inside the span of "2026-09-24 + 15 working days". */
async function addHolidayOn12October(db: Db, at: Date): Promise<void> {
  const current = await findCalendarYear(db, 2026);
  await db.transaction().execute((trx) =>
    replaceCalendarYear(trx, {
      year: 2026,
      days: [...current!.days, { date: '2026-10-12', kind: 'holiday', name: 'test holiday' }],
      source: 'test',
      version: 'extra holiday',
      loadedBy: 'test',
      at,
    }),
  );
}

describe('computeDeadline activity and the cached calendar', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  test('a later calendar edit never moves a deadline already promised', async () => {
    let nowMs = Date.parse('2026-09-24T10:00:00+08:00');
    // Another process's view of the calendar: it notices changes through the fingerprint, after recheckAfterMs.
    const calendar = createCalendarProvider(database.db, { recheckAfterMs: 60_000, now: () => nowMs });
    const activities = createDeadlineActivities({ calendar, clock: { now: () => new Date(nowMs) } });

    const promised = await activities.computeDeadline({ from: '2026-09-24', workingDays: 15 });
    expect(promised).toEqual({
      from: '2026-09-24',
      workingDays: 15,
      due: '2026-10-22',
      dueAt: '2026-10-22T23:59:59+08:00',
      provisional: false,
      missingYears: [],
      computedAt: '2026-09-24T02:00:00.000Z',
    });
    const recorded = JSON.stringify(promised);
    expect(await calendar()).toBe(await calendar());

    await addHolidayOn12October(database.db, new Date(nowMs));

    nowMs += 120_000;
    const later = await activities.computeDeadline({ from: '2026-09-24', workingDays: 15 });
    expect(later.due).toBe('2026-10-23');
    // What was promised (and recorded in the workflow history and the case row) is untouched.
    expect(JSON.stringify(promised)).toBe(recorded);
    expect(promised.due).toBe('2026-10-22');
  });

  test('a workflow keeps the deadline it recorded, even when replayed by a new worker after a calendar edit', async () => {
    const workflowDatabase = await createTestDatabase();
    const env = await createTestEnv();
    try {
      const calendar = createCalendarProvider(workflowDatabase.db, { recheckAfterMs: 0 });
      const taskQueue = `deadlines-${randomBytes(4).toString('hex')}`;
      const startWorker = async () => {
        const worker = await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowsPath: path.join(__dirname, 'workflows', 'promise-deadline.ts'),
          activities: createDeadlineActivities({ calendar, clock: { now: () => new Date() } }),
        });
        const running = worker.run();
        return async () => {
          worker.shutdown();
          await running;
        };
      };

      const stopFirst = await startWorker();
      const handle = await env.client.workflow.start(promiseDeadline, { taskQueue, workflowId: `promise-${taskQueue}`, args: ['2026-09-24', 15] });
      // Wait until the activity's result is in the history.
      await eventually(
        async () => (await handle.fetchHistory()).events?.some((event) => event.activityTaskCompletedEventAttributes) ?? false,
        (completed) => completed,
        10_000,
      );
      await stopFirst();

      await addHolidayOn12October(workflowDatabase.db, new Date());
      expect((await calendar()).addWorkingDays('2026-09-24', 15).due).toBe('2026-10-23');

      const stopSecond = await startWorker();
      await handle.signal(finishSignal);
      const promised = await handle.result();
      await stopSecond();
      expect(promised).toMatchObject({ from: '2026-09-24', workingDays: 15, due: '2026-10-22', dueAt: '2026-10-22T23:59:59+08:00' });
    } finally {
      await env.teardown();
      await workflowDatabase.drop();
    }
  });
});
