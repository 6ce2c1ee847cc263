import { sql, type Kysely } from 'kysely';

// Incident close-out (P2 "After restoration"): one row per round of an incident's close-out (a round
// starts at each restoration; a continuation of the same symptom within 24 h supersedes it). The
// incident report (a document signed by the customer), the emergency-recovery summary report (written,
// reviewed by the manager, customised and delivered to the customer's supervisor within 1 working day),
// the follow-up, the expert group's summary, the review meeting and its minutes, each with its
// deadline and chase as computed once and recorded. Statuses and states are declared in
// workflows/incident-close-out/definitions.ts (test/db/status-constraints.test.ts holds the CHECKs to them).
//
// Contacts gain a role: the summary report goes to the customer's supervisor.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table contacts add column role text not null default 'operations'
    constraint contacts_role_check check (role in ('operations', 'supervisor', 'technical'))`.execute(db);
  await db.schema.createIndex('contacts_customer_role_idx').on('contacts').columns(['customer_id', 'role']).execute();

  await sql`alter table documents drop constraint documents_kind_check`.execute(db);
  await sql`alter table documents add constraint documents_kind_check
    check (kind in ('repair_plan', 'service_report', 'fault_report', 'recovery_plan', 'implementation_plan', 'write_up', 'incident_report'))`.execute(db);

  await db.schema
    .createTable('incident_close_outs')
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('cases.id'))
    .addColumn('round', 'integer', (col) => col.notNull().check(sql`round > 0`))
    .addColumn('case_number', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('reporting', 'review_meeting', 'archived', 'superseded')`))
    .addColumn('interrupted_at', 'timestamptz', (col) => col.notNull())
    .addColumn('restored_at', 'timestamptz', (col) => col.notNull())
    // Who signs the incident report for the customer (the incident's contact as the round started).
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('incident_report_document_id', 'uuid', (col) => col.notNull().references('documents.id'))
    .addColumn('incident_report_signed_version', 'integer')
    .addColumn('incident_report_signed_at', 'timestamptz')
    .addColumn('deadlines_provisional', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('summary_due_at', 'timestamptz', (col) => col.notNull())
    .addColumn('summary_chase_at', 'timestamptz', (col) => col.notNull())
    .addColumn('summary_chased_at', 'timestamptz')
    .addColumn('summary_missed_at', 'timestamptz')
    .addColumn('summary_state', 'text', (col) => col.notNull().defaultTo('awaiting').check(sql`summary_state in ('awaiting', 'submitted', 'returned', 'approved', 'delivered')`))
    .addColumn('summary_version', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('summary_content', 'jsonb')
    .addColumn('summary_submitted_at', 'timestamptz')
    .addColumn('summary_submitted_by', 'text')
    .addColumn('summary_writer_user_id', 'uuid', (col) => col.references('users.id'))
    .addColumn('summary_reviewed_at', 'timestamptz')
    .addColumn('summary_reviewed_by', 'text')
    .addColumn('summary_review_comment', 'text')
    .addColumn('summary_customised', 'text')
    .addColumn('summary_customised_by', 'text')
    .addColumn('summary_delivered_at', 'timestamptz')
    // To whom: the customer's supervisors, or (none on record) the case's contact.
    .addColumn('summary_delivered_to', 'jsonb')
    .addColumn('follow_up_due_at', 'timestamptz', (col) => col.notNull())
    .addColumn('follow_up_chased_at', 'timestamptz')
    .addColumn('follow_up_done_at', 'timestamptz')
    .addColumn('follow_up_by', 'text')
    .addColumn('follow_up_reached', 'boolean')
    .addColumn('follow_up_notes', 'text')
    .addColumn('group_summary_due_at', 'timestamptz', (col) => col.notNull())
    .addColumn('group_summary_chased_at', 'timestamptz')
    .addColumn('group_summary_submitted_at', 'timestamptz')
    .addColumn('group_summary_by', 'text')
    .addColumn('group_summary', 'text')
    .addColumn('group_summary_lessons', 'text')
    .addColumn('meeting_starts_at', 'timestamptz')
    .addColumn('meeting_ends_at', 'timestamptz')
    .addColumn('meeting_location', 'text')
    .addColumn('meeting_attendees', 'jsonb')
    .addColumn('meeting_bookings', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('meeting_scheduled_by', 'text')
    .addColumn('minutes', 'text')
    .addColumn('minutes_decisions', 'jsonb')
    .addColumn('minutes_recorded_at', 'timestamptz')
    .addColumn('minutes_recorded_by', 'text')
    .addColumn('archived_at', 'timestamptz')
    .addColumn('superseded_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('incident_close_outs_pkey', ['case_id', 'round'])
    .addCheckConstraint('incident_close_outs_restored_after_interruption', sql`restored_at >= interrupted_at`)
    .execute();
  await db.schema.createIndex('incident_close_outs_status_idx').on('incident_close_outs').columns(['status']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('incident_close_outs').execute();
  // Documents are append-only: incident reports already written stay, so the old list is not validated against them.
  await sql`alter table documents drop constraint documents_kind_check`.execute(db);
  await sql`alter table documents add constraint documents_kind_check
    check (kind in ('repair_plan', 'service_report', 'fault_report', 'recovery_plan', 'implementation_plan', 'write_up')) not valid`.execute(db);
  await db.schema.dropIndex('contacts_customer_role_idx').execute();
  await sql`alter table contacts drop column role`.execute(db);
}
