import { sql, type Kysely } from 'kysely';

/**
 * Staff console sessions (api/console/sessions.ts). Only hashes of the session tokens are stored; a
 * rotated session keeps its previous hash valid for a few seconds so that requests already in flight
 * with the old cookie still pass. Signing out or disabling the user ends a session here, for every
 * API process at once. `users.locale` is the language each user chose for the console.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('console_sessions')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('previous_token_hash', 'text', (col) => col.unique())
    .addColumn('previous_valid_until', 'timestamptz')
    .addColumn('csrf_token', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('rotated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('console_sessions_user_idx').on('console_sessions').column('user_id').execute();
  await sql`alter table users add column locale text constraint users_locale_check check (locale in ('zh-CN', 'en'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table users drop column locale`.execute(db);
  await db.schema.dropTable('console_sessions').execute();
}
