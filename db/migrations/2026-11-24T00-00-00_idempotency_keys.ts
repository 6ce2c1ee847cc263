import { sql, type Kysely } from 'kysely';

/**
 * The answers to POST requests sent with an `Idempotency-Key` header, kept 24 hours so that a retry
 * gets the first answer instead of doing the change again. A key belongs to one caller (a user, or
 * the subject of a signed link); a row without a response status is a request still in flight.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('principal', 'text', (col) => col.notNull())
    .addColumn('idempotency_key', 'text', (col) => col.notNull().check(sql`length(idempotency_key) between 1 and 255`))
    .addColumn('request_method', 'text', (col) => col.notNull())
    .addColumn('route', 'text', (col) => col.notNull())
    .addColumn('request_path_hash', 'text', (col) => col.notNull())
    .addColumn('request_body_hash', 'text', (col) => col.notNull())
    .addColumn('claim_id', 'uuid', (col) => col.notNull())
    .addColumn('response_status', 'integer', (col) => col.check(sql`response_status between 100 and 499`))
    .addColumn('response_body', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['principal', 'idempotency_key'])
    .execute();
  // The opportunistic purge of expired keys.
  await db.schema.createIndex('idempotency_keys_created_at_idx').on('idempotency_keys').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
}
