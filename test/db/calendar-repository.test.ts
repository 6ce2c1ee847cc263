import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import type { Db } from '../../db';
import { addMissingCalendarYears, findCalendarYear, loadBusinessCalendar, replaceCalendarYear } from '../../db/repositories/calendar';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('addMissingCalendarYears', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  test('adds the years the dataset has and the database lacks, once, and never touches a loaded year', async () => {
    const dataset = loadChineseWorkdayDataset();
    await database.db.deleteFrom('calendar_years').where('year', '=', 2026).execute();
    await correct2025AsAnAdmin(database.db);

    expect(await addMissingCalendarYears(database.db, dataset, new Date())).toEqual([2026]);
    expect(await addMissingCalendarYears(database.db, dataset, new Date())).toEqual([]);

    const calendar = await loadBusinessCalendar(database.db);
    expect(calendar.addWorkingDays('2026-09-24', 15).due).toBe('2026-10-22');
    const year2025 = await findCalendarYear(database.db, 2025);
    expect(year2025?.record).toMatchObject({ revision: 2, source: 'test' });
    const audit = await database.db.selectFrom('audit_events').select(['actor', 'comment']).where('action', '=', 'calendar.year_added').execute();
    expect(audit).toEqual([{ actor: 'system', comment: '2026: npm:chinese-workday (1.16.1)' }]);
  });
});

/** An admin correction of 2025 (revision 2) that a dataset sync must leave alone. */
async function correct2025AsAnAdmin(db: Db): Promise<void> {
  const current = await findCalendarYear(db, 2025);
  await db.transaction().execute((trx) =>
    replaceCalendarYear(trx, { year: 2025, days: current!.days, source: 'test', version: 'admin correction', loadedBy: 'test', at: new Date() }),
  );
}
