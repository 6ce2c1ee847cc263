import { sql } from 'kysely';
import type { UserRole } from '../../db/schema';
import type { SummaryReportState } from '../../workflows/incident-close-out/definitions';
import type { Task, TaskSource } from '../me/tasks';

/**
 * The incident close-out's part of GET /me/tasks, for each open round: the incident report's first
 * version and the summary report (to the writer: whoever wrote the last version, else the group's
 * coordinator, else every engineer), the review and the customisation (managers, due with the
 * summary's deadline), the follow-up, the review meeting and its minutes (the desk), the group summary
 * (the coordinator, else every engineer). Later versions of the incident report come from the
 * documents' own tasks.
 */
export const incidentCloseOutTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('incident_close_outs as o')
    .innerJoin('cases as c', 'c.id', 'o.case_id')
    .innerJoin('customers as k', 'k.id', 'c.customer_id')
    .select([
      'o.case_number',
      'o.case_id',
      'o.round',
      'o.status',
      'o.updated_at',
      'o.incident_report_signed_at',
      'o.summary_state',
      'o.summary_due_at',
      'o.summary_writer_user_id',
      'o.follow_up_due_at',
      'o.follow_up_done_at',
      'o.group_summary_due_at',
      'o.group_summary_submitted_at',
      'o.meeting_starts_at',
      'o.minutes_recorded_at',
      'k.name as customer_name',
      sql<boolean>`not exists (select 1 from document_versions v where v.document_id = o.incident_report_document_id)`.as('incident_report_unwritten'),
      sql<string | null>`(select m.user_id::text from incident_expert_group_members m where m.case_id = o.case_id and m.coordinator and m.removed_at is null limit 1)`.as('coordinator_user_id'),
    ])
    .where('o.status', 'in', ['reporting', 'review_meeting'])
    .where('c.closed_at', 'is', null)
    .execute();
  const isOneOf = (roles: readonly UserRole[]) => roles.includes(actor.role);
  const isEngineer = isOneOf(['engineer', 'senior_engineer']);
  const tasks: Task[] = [];
  for (const row of rows) {
    const task = (kind: Task['kind'], what: string, dueAt: Date | null): Task => ({
      kind,
      process: 'incident_close_out',
      caseNumber: row.case_number,
      title: `${what}: ${row.case_number} (${row.customer_name})`,
      waitingSince: new Date(row.updated_at).toISOString(),
      dueAt: dueAt ? new Date(dueAt).toISOString() : null,
      href: `/incidents/${row.case_number}/close-out`,
    });
    // Assigned to someone: only they see it; nobody assigned: every engineer does.
    const forWriter = (assignee: string | null) => (assignee ? assignee === actor.id : isEngineer);
    const summary = row.summary_state as SummaryReportState;
    if (row.incident_report_unwritten && forWriter(row.coordinator_user_id)) tasks.push(task('write_incident_report', 'Write the incident report for the customer to sign', null));
    if ((summary === 'awaiting' || summary === 'returned') && forWriter(row.summary_writer_user_id ?? row.coordinator_user_id)) {
      tasks.push(task('write_incident_summary', summary === 'returned' ? 'Revise the emergency-recovery summary report' : 'Write the emergency-recovery summary report', row.summary_due_at));
    }
    if (summary === 'submitted' && isOneOf(['manager'])) tasks.push(task('review_incident_summary', 'Review the emergency-recovery summary report', row.summary_due_at));
    if (summary === 'approved' && isOneOf(['manager'])) tasks.push(task('customise_incident_summary', "Customise the summary report for the customer's supervisor", row.summary_due_at));
    if (!row.follow_up_done_at && isOneOf(['service_desk'])) tasks.push(task('incident_follow_up', 'Follow up with the customer after the incident', row.follow_up_due_at));
    if (!row.group_summary_submitted_at && forWriter(row.coordinator_user_id)) tasks.push(task('write_group_summary', "Write the expert group's summary", row.group_summary_due_at));
    if (!row.meeting_starts_at && isOneOf(['service_desk'])) tasks.push(task('schedule_review_meeting', 'Schedule the incident review meeting', null));
    if (row.status === 'review_meeting' && row.meeting_starts_at && !row.minutes_recorded_at && isOneOf(['service_desk'])) tasks.push(task('record_review_minutes', "Record the review meeting's minutes", null));
  }
  return tasks;
};
