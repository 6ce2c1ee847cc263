import { sql, type Kysely } from 'kysely';

/**
 * Case numbers come from one PostgreSQL sequence per prefix and year (`case_number_sp_2026`, created
 * on demand by `nextCaseNumber`) instead of the `case_number_counters` row: nextval is not
 * transactional, so a number handed out to a transaction that then fails is never handed out again.
 * Numbering may have gaps; it never has duplicates.
 *
 * Each existing counter seeds its sequence so that numbers continue, skipping one: under the old
 * registration (workflow started inside the transaction) the number after the last committed one may
 * be held by an orphaned workflow whose transaction never committed; that number is left unused.
 * The names are written out here (not imported) so that this migration stays as it ran.
 */
const SEQUENCE_NAME = /^case_number_([a-z]{1,8})_(\d{4})$/;

function sequenceName(prefix: string, year: number): string {
  const name = `case_number_${prefix.toLowerCase()}_${year}`;
  if (!SEQUENCE_NAME.test(name)) throw new Error(`unexpected case number counter ${prefix}/${year}`);
  return name;
}

export async function up(db: Kysely<any>): Promise<void> {
  const counters = await db.selectFrom('case_number_counters').select(['prefix', 'year', 'last_value']).execute();
  for (const counter of counters as { prefix: string; year: number; last_value: number }[]) {
    const name = sequenceName(counter.prefix, counter.year);
    await sql`create sequence if not exists ${sql.id(name)} as bigint minvalue 1`.execute(db);
    // is_called = true: the next nextval answers last_value + 2 (see above).
    await sql`select setval(${name}::regclass, ${Math.max(counter.last_value + 1, 1)}, true)`.execute(db);
  }
  await db.schema.dropTable('case_number_counters').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('case_number_counters')
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('year', 'integer', (col) => col.notNull())
    .addColumn('last_value', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('case_number_counters_pk', ['prefix', 'year'])
    .execute();
  const { rows } = await sql<{ sequencename: string; last_value: string | null }>`
    select sequencename, last_value from pg_sequences
    where schemaname = current_schema() and sequencename ~ '^case_number_[a-z]{1,8}_[0-9]{4}$'`.execute(db);
  for (const row of rows) {
    const [, prefix, year] = SEQUENCE_NAME.exec(row.sequencename)!;
    // A sequence that never answered has no last value: no number of that prefix and year was given out.
    if (row.last_value !== null) {
      await db.insertInto('case_number_counters').values({ prefix: prefix!.toUpperCase(), year: Number(year), last_value: Number(row.last_value) }).execute();
    }
    await sql`drop sequence ${sql.id(row.sequencename)}`.execute(db);
  }
}
