import type { Kysely } from 'kysely';

/** An email may carry an iCalendar invitation (an appointment): kept with the row, sent as its text/calendar part. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('email_outbox').addColumn('calendar_invite', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('email_outbox').dropColumn('calendar_invite').execute();
}
