import { createDeadlineActivities } from '../../activities/deadlines';
import { createCalendarProvider, findCalendarYear, replaceCalendarYear } from '../../db/repositories/calendar';
import { createTestDatabase, type TestDatabase } from '../support/db';

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

    // An extra holiday on Monday 2026-10-12, inside the promised span.
    const current = await findCalendarYear(database.db, 2026);
    await database.db.transaction().execute((trx) =>
      replaceCalendarYear(trx, {
        year: 2026,
        days: [...current!.days, { date: '2026-10-12', kind: 'holiday', name: 'test holiday' }],
        source: 'test',
        version: 'extra holiday',
        loadedBy: 'test',
        at: new Date(nowMs),
      }),
    );

    nowMs += 120_000;
    const later = await activities.computeDeadline({ from: '2026-09-24', workingDays: 15 });
    expect(later.due).toBe('2026-10-23');
    // What was promised (and recorded in the workflow history and the case row) is untouched.
    expect(JSON.stringify(promised)).toBe(recorded);
    expect(promised.due).toBe('2026-10-22');
  });
});
