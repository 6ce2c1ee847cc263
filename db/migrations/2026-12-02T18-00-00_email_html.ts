import type { Kysely } from 'kysely';

/**
 * Emails carry an HTML part beside the text part: the outbox keeps it rendered, as it keeps the text,
 * so that the relay sends what the step committed. Rows queued before this migration have none and go
 * out as text only.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('email_outbox').addColumn('body_html', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('email_outbox').dropColumn('body_html').execute();
}
