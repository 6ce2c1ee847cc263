import { sql, type Kysely } from 'kysely';

/**
 * A signed document can be reopened (a plan changed on site): the reopening is a row of its own in
 * `document_decisions` (step `reopening`, decision `reopened`, on the signed version), so that the
 * document's state, read from its rows, shows it waiting for a new version.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table document_decisions drop constraint document_decisions_step_check`.execute(db);
  await sql`alter table document_decisions drop constraint document_decisions_decision_check`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_step_check
    check (step in ('technical_review', 'manager_approval', 'rd_review', 'customer_signature', 'withdrawal', 'reopening'))`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_decision_check
    check (decision in ('approved', 'rejected', 'signed', 'objected', 'withdrawn', 'reopened'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table document_decisions drop constraint document_decisions_step_check`.execute(db);
  await sql`alter table document_decisions drop constraint document_decisions_decision_check`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_step_check
    check (step in ('technical_review', 'manager_approval', 'rd_review', 'customer_signature', 'withdrawal'))`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_decision_check
    check (decision in ('approved', 'rejected', 'signed', 'objected', 'withdrawn'))`.execute(db);
}
