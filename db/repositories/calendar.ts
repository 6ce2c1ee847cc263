import { sql, type Transaction } from 'kysely';
import { BusinessCalendar, type BusinessCalendarData, type CalendarDayEntry } from '../../workflows/rules/calendar';
import type { Db, DbExecutor } from '../index';
import type { Database } from '../schema';



export interface CalendarYearRecord {
  year: number;
  source: string;
  version: string;
  revision: number;
  loadedAt: Date;
  loadedBy: string;
  holidays: number;
  adjustedWorkingDays: number;
}

export async function listCalendarYears(db: DbExecutor): Promise<CalendarYearRecord[]> {
  const rows = await db
    .selectFrom('calendar_years as y')
    .leftJoin('calendar_days as d', 'd.year', 'y.year')
    .select(['y.year', 'y.source', 'y.version', 'y.revision', 'y.loaded_at', 'y.loaded_by'])
    .select((eb) => [
      eb.fn.count<string>('d.date').filterWhere('d.kind', '=', 'holiday').as('holidays'),
      eb.fn.count<string>('d.date').filterWhere('d.kind', '=', 'adjusted_working_day').as('adjusted'),
    ])
    .groupBy('y.year')
    .orderBy('y.year')
    .execute();
  return rows.map((row) => ({
    year: row.year,
    source: row.source,
    version: row.version,
    revision: row.revision,
    loadedAt: row.loaded_at,
    loadedBy: row.loaded_by,
    holidays: Number(row.holidays),
    adjustedWorkingDays: Number(row.adjusted),
  }));
}

export async function findCalendarYear(db: DbExecutor, year: number): Promise<{ record: CalendarYearRecord; days: CalendarDayEntry[] } | undefined> {
  const record = (await listCalendarYears(db)).find((candidate) => candidate.year === year);
  if (!record) return undefined;
  const days = await db.selectFrom('calendar_days').select(['date', 'kind', 'name']).where('year', '=', year).orderBy('date').execute();
  return { record, days: days.map((day) => ({ date: day.date, kind: day.kind, name: day.name ?? undefined })) };
}

/** Every published year and every dated entry: the data a BusinessCalendar is built from. */
export async function readBusinessCalendarData(db: DbExecutor): Promise<BusinessCalendarData> {
  const years = await db.selectFrom('calendar_years').select('year').orderBy('year').execute();
  const days = await db.selectFrom('calendar_days').select(['date', 'kind', 'name']).orderBy('date').execute();
  return {
    publishedYears: years.map((row) => row.year),
    days: days.map((day) => ({ date: day.date, kind: day.kind, name: day.name ?? undefined })),
  };
}

/** Changes whenever a year is added or replaced: cheap enough to ask before every use of a cached calendar. */
export async function calendarFingerprint(db: DbExecutor): Promise<string> {
  const row = await db
    .selectFrom('calendar_years')
    .select([
      sql<string>`count(*)::text`.as('years'),
      sql<string>`coalesce(sum(revision), 0)::text`.as('revisions'),
      sql<string>`coalesce(max(loaded_at)::text, '')`.as('loaded'),
    ])
    .executeTakeFirstOrThrow();
  return `${row.years}:${row.revisions}:${row.loaded}`;
}

/**
 * Replaces one year's schedule (its holidays and adjusted working days) and records where it came
 * from. Run it inside a transaction together with the audit entry.
 */
export async function replaceCalendarYear(
  trx: Transaction<Database>,
  input: { year: number; days: readonly CalendarDayEntry[]; source: string; version: string; loadedBy: string; at: Date },
): Promise<CalendarYearRecord> {
  await trx
    .insertInto('calendar_years')
    .values({ year: input.year, source: input.source, version: input.version, loaded_at: input.at, loaded_by: input.loadedBy })
    .onConflict((oc) =>
      oc.column('year').doUpdateSet({
        source: input.source,
        version: input.version,
        revision: sql`calendar_years.revision + 1`,
        loaded_at: input.at,
        loaded_by: input.loadedBy,
      }),
    )
    .execute();
  await trx.deleteFrom('calendar_days').where('year', '=', input.year).execute();
  if (input.days.length > 0) {
    await trx
      .insertInto('calendar_days')
      .values(input.days.map((day) => ({ date: day.date, year: input.year, kind: day.kind, name: day.name ?? null, source: input.source })))
      .execute();
  }
  const saved = await findCalendarYear(trx, input.year);
  if (!saved) throw new Error(`calendar year ${input.year} vanished inside its own transaction`);
  return saved.record;
}

export async function loadBusinessCalendar(db: DbExecutor): Promise<BusinessCalendar> {
  return new BusinessCalendar(await readBusinessCalendarData(db));
}

/**
 * The current calendar, cached: `provider()` rebuilds it only when the stored data changed. It asks
 * the database for the fingerprint at most every `recheckAfterMs` (a PUT in this process calls
 * `invalidate()` so its own next read is fresh; other processes see the change within that delay).
 */
export interface CalendarProvider {
  (): Promise<BusinessCalendar>;
  invalidate(): void;
}

export function createCalendarProvider(db: Db, options: { recheckAfterMs?: number; now?: () => number } = {}): CalendarProvider {
  const recheckAfterMs = options.recheckAfterMs ?? 5_000;
  const now = options.now ?? (() => Date.now());
  let cached: { calendar: BusinessCalendar; fingerprint: string; checkedAt: number } | undefined;
  let inFlight: Promise<BusinessCalendar> | undefined;

  async function refresh(): Promise<BusinessCalendar> {
    const fingerprint = await calendarFingerprint(db);
    if (cached && cached.fingerprint === fingerprint) {
      cached.checkedAt = now();
      return cached.calendar;
    }
    const calendar = await loadBusinessCalendar(db);
    cached = { calendar, fingerprint, checkedAt: now() };
    return calendar;
  }

  const provider = (() => {
    if (cached && now() - cached.checkedAt < recheckAfterMs) return Promise.resolve(cached.calendar);
    inFlight ??= refresh().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }) as CalendarProvider;
  provider.invalidate = () => {
    if (cached) cached.checkedAt = Number.NEGATIVE_INFINITY;
  };
  return provider;
}

/**
 * Adds the years a newer dataset (e.g. a chinese-workday upgrade) publishes that the database does
 * not hold yet. A year already present is never touched: it may have been loaded or corrected by
 * an admin. Safe when several processes start at once. Returns the years added.
 */
export async function addMissingCalendarYears(
  db: Db,
  dataset: BusinessCalendarData & { source: string; version: string },
  at: Date,
): Promise<number[]> {
  return db.transaction().execute(async (trx) => {
    if (dataset.publishedYears.length === 0) return [];
    const inserted = await trx
      .insertInto('calendar_years')
      .values(dataset.publishedYears.map((year) => ({ year, source: dataset.source, version: dataset.version, loaded_at: at, loaded_by: 'system' })))
      .onConflict((oc) => oc.column('year').doNothing())
      .returning('year')
      .execute();
    const added = new Set(inserted.map((row) => row.year));
    const days = dataset.days.filter((day) => added.has(Number(day.date.slice(0, 4))));
    if (days.length > 0) {
      await trx
        .insertInto('calendar_days')
        .values(days.map((day) => ({ date: day.date, year: Number(day.date.slice(0, 4)), kind: day.kind, name: day.name ?? null, source: `${dataset.source}@${dataset.version}` })))
        .execute();
    }
    for (const year of added) {
      await trx
        .insertInto('audit_events')
        .values({
          case_id: null,
          occurred_at: at,
          actor: 'system',
          actor_role: 'system',
          action: 'calendar.year_added',
          comment: `${year}: ${dataset.source} (${dataset.version})`,
          data: JSON.stringify({ year, source: dataset.source, version: dataset.version, days: days.filter((day) => day.date.startsWith(`${year}-`)) }),
          idempotency_key: `calendar.year_added:${year}:${dataset.source}@${dataset.version}`,
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
    }
    return [...added].sort((a, b) => a - b);
  });
}
