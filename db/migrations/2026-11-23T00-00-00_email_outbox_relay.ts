import { sql, type Kysely } from 'kysely';

/**
 * The outbox is delivered by a relay in the worker process instead of by the step that wrote it:
 * each row carries when it may next be tried (exponential backoff after an SMTP failure) and when its
 * current send started; a send whose outcome was never recorded (the process died during it) becomes
 * `unconfirmed` and is not sent again on its own: SMTP may have accepted it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('email_outbox')
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('send_started_at', 'timestamptz')
    .execute();
  await sql`alter table email_outbox drop constraint email_outbox_status_check`.execute(db);
  await sql`alter table email_outbox add constraint email_outbox_status_check check (status in ('pending', 'sending', 'sent', 'failed', 'unconfirmed'))`.execute(db);
  // What the relay polls: rows due for a (first or next) attempt, oldest due first.
  await sql`create index email_outbox_due_idx on email_outbox (next_attempt_at) where status in ('pending', 'failed')`.execute(db);
  await sql`create index email_outbox_sending_idx on email_outbox (lease_until) where status = 'sending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('email_outbox_sending_idx').execute();
  await db.schema.dropIndex('email_outbox_due_idx').execute();
  // Before this migration an unconfirmed send was a 'sending' row whose lease had run out.
  await sql`update email_outbox set status = 'sending' where status = 'unconfirmed'`.execute(db);
  await sql`alter table email_outbox drop constraint email_outbox_status_check`.execute(db);
  await sql`alter table email_outbox add constraint email_outbox_status_check check (status in ('pending', 'sending', 'sent', 'failed'))`.execute(db);
  await db.schema.alterTable('email_outbox').dropColumn('send_started_at').dropColumn('next_attempt_at').execute();
}
