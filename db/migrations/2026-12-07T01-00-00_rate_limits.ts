import { sql, type Kysely } from 'kysely';

/**
 * Fixed-window request counters of the rate limits on the public endpoints (api/shared/rate-limit.ts),
 * in the database so that every API process counts against the same limit. One row per limited key
 * (a hash of the limiter's name and the client address or token): the window it counts and the hits
 * in it; an upsert opens a new window when the stored one has ended.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_limit_counters')
    .addColumn('key_hash', 'text', (col) => col.primaryKey())
    .addColumn('window_start', 'timestamptz', (col) => col.notNull())
    .addColumn('window_end', 'timestamptz', (col) => col.notNull())
    .addColumn('hits', 'integer', (col) => col.notNull().check(sql`hits >= 1`))
    .execute();
  // The opportunistic purge of counters whose window ended long ago.
  await db.schema.createIndex('rate_limit_counters_window_end_idx').on('rate_limit_counters').column('window_end').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limit_counters').execute();
}
