import { sql, type Kysely } from 'kysely';
import { loadChineseWorkdayDataset } from '../calendar-dataset';

/**
 * The business calendar as data: one row per published year (its source and version) and one per
 * holiday or adjusted working day. Seeded with every year the chinese-workday package covers; later
 * years are loaded through PUT /admin/calendar/:year.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('calendar_years')
    .addColumn('year', 'integer', (col) => col.primaryKey().check(sql`year between 2000 and 2099`))
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('revision', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('loaded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('loaded_by', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('calendar_days')
    .addColumn('date', 'date', (col) => col.primaryKey())
    .addColumn('year', 'integer', (col) => col.notNull().references('calendar_years.year').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('holiday', 'adjusted_working_day')`))
    .addColumn('name', 'text')
    .addColumn('source', 'text', (col) => col.notNull())
    .addCheckConstraint('calendar_days_date_in_year', sql`extract(year from date) = year`)
    .addCheckConstraint('calendar_days_adjusted_on_weekend', sql`kind <> 'adjusted_working_day' or extract(isodow from date) in (6, 7)`)
    .execute();
  await db.schema.createIndex('calendar_days_year_idx').on('calendar_days').column('year').execute();

  const dataset = loadChineseWorkdayDataset();
  const source = `${dataset.source}@${dataset.version}`;
  await db
    .insertInto('calendar_years')
    .values(dataset.publishedYears.map((year) => ({ year, source: dataset.source, version: dataset.version, loaded_by: 'migration' })))
    .execute();
  await db
    .insertInto('calendar_days')
    .values(dataset.days.map((day) => ({ date: day.date, year: Number(day.date.slice(0, 4)), kind: day.kind, name: day.name ?? null, source })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('calendar_days').execute();
  await db.schema.dropTable('calendar_years').execute();
}
