import { sql, type Kysely } from 'kysely';

// Fault repair (P1), stage 2: from restoration to the archive. The fault report (seven items, due 24 h
// after restoration), the follow-up call (due 2 days after the service report is signed) and the
// customer's satisfaction survey, the engineer's write-up (due a week after restoration) and its
// review; and the device's history, append-only, written when a case is archived. The statuses are
// unchanged (stage 2 runs in `reporting` / `follow_up` and ends in `closed`).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('fault_repairs')
    .addColumn('fault_report_due_at', 'timestamptz')
    .addColumn('fault_report_chase_at', 'timestamptz')
    .addColumn('fault_report_chased_at', 'timestamptz')
    .addColumn('fault_report_missed_at', 'timestamptz')
    .addColumn('fault_report', 'jsonb')
    .addColumn('fault_report_submitted_at', 'timestamptz')
    .addColumn('fault_report_submitted_by', 'text')
    .addColumn('follow_up_due_at', 'timestamptz')
    .addColumn('follow_up_chased_at', 'timestamptz')
    .addColumn('follow_up_escalated_at', 'timestamptz')
    .addColumn('follow_up_called_at', 'timestamptz')
    .addColumn('follow_up_called_by', 'text')
    .addColumn('follow_up_reached', 'boolean')
    .addColumn('follow_up_notes', 'text')
    .addColumn('survey_sent_at', 'timestamptz')
    .addColumn('survey_score', 'integer', (col) => col.check(sql`survey_score between 1 and 5`))
    .addColumn('survey_comment', 'text')
    .addColumn('survey_answered_at', 'timestamptz')
    .addColumn('write_up_due_at', 'timestamptz')
    .addColumn('write_up_state', 'text', (col) => col.check(sql`write_up_state in ('awaiting', 'submitted', 'returned', 'approved')`))
    .addColumn('write_up_version', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('write_up_summary', 'text')
    .addColumn('write_up_lessons', 'text')
    .addColumn('write_up_submitted_at', 'timestamptz')
    .addColumn('write_up_review_comment', 'text')
    .addColumn('write_up_reviewed_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('device_history')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('cases.id'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('fault', 'repair', 'parts')`))
    .addColumn('summary', 'text', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull())
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('device_history_case_kind_key', ['case_id', 'kind'])
    .execute();
  await db.schema.createIndex('device_history_device_idx').on('device_history').columns(['device_id', 'occurred_at']).execute();
  // Append-only: a row once written is never changed or removed.
  await sql`
    create function device_history_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'device_history is append-only';
    end $$`.execute(db);
  await sql`create trigger device_history_append_only before update or delete on device_history for each row execute function device_history_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('device_history').execute();
  await sql`drop function if exists device_history_append_only()`.execute(db);
  await db.schema
    .alterTable('fault_repairs')
    .dropColumn('fault_report_due_at')
    .dropColumn('fault_report_chase_at')
    .dropColumn('fault_report_chased_at')
    .dropColumn('fault_report_missed_at')
    .dropColumn('fault_report')
    .dropColumn('fault_report_submitted_at')
    .dropColumn('fault_report_submitted_by')
    .dropColumn('follow_up_due_at')
    .dropColumn('follow_up_chased_at')
    .dropColumn('follow_up_escalated_at')
    .dropColumn('follow_up_called_at')
    .dropColumn('follow_up_called_by')
    .dropColumn('follow_up_reached')
    .dropColumn('follow_up_notes')
    .dropColumn('survey_sent_at')
    .dropColumn('survey_score')
    .dropColumn('survey_comment')
    .dropColumn('survey_answered_at')
    .dropColumn('write_up_due_at')
    .dropColumn('write_up_state')
    .dropColumn('write_up_version')
    .dropColumn('write_up_summary')
    .dropColumn('write_up_lessons')
    .dropColumn('write_up_submitted_at')
    .dropColumn('write_up_review_comment')
    .dropColumn('write_up_reviewed_at')
    .execute();
}
