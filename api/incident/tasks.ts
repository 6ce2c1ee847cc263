import type { UserRole } from '../../db/schema';
import { INCIDENT_OPEN_STATUSES } from '../../workflows/incident/definitions';
import type { Task, TaskSource } from '../me/tasks';

/**
 * The incident core's part of GET /me/tasks: the managers grade new incidents and form the expert
 * group from ladder level 3; senior engineers go on site at level 2 (due: the level-3 instant once
 * they arrived); engineers restore open incidents (due: the next escalation); the group and the
 * managers switch a standby unit back after restoration. The recovery plans' decisions come from the
 * documents' own task source.
 */
export const incidentTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('incidents as i')
    .innerJoin('customers as c', 'c.id', 'i.customer_id')
    .select([
      'i.case_id',
      'i.case_number',
      'i.status',
      'i.level',
      'i.ladder_level',
      'i.arrived_on_site_at',
      'i.next_escalation_at',
      'i.standby_serial',
      'i.standby_switched_back_at',
      'i.updated_at',
      'i.reported_at',
      'c.name as customer_name',
    ])
    .where('i.status', 'in', [...INCIDENT_OPEN_STATUSES, 'closed'])
    .execute();
  const groups = await db
    .selectFrom('incident_expert_group_members')
    .select(['case_id'])
    .where('removed_at', 'is', null)
    .where('user_id', '=', actor.id)
    .execute();
  const inGroup = new Set(groups.map((row) => row.case_id));
  const withGroup = new Set(
    (await db.selectFrom('incident_expert_group_members').select('case_id').distinct().where('removed_at', 'is', null).execute()).map((row) => row.case_id),
  );
  const isOneOf = (roles: readonly UserRole[]) => roles.includes(actor.role);
  const tasks: Task[] = [];
  for (const row of rows) {
    const due = row.next_escalation_at ? row.next_escalation_at.toISOString() : null;
    const task = (kind: Task['kind'], what: string, dueAt: string | null): Task => ({
      kind,
      process: 'incident',
      caseNumber: row.case_number,
      title: `${what}: ${row.case_number} (${row.customer_name}${row.level ? `, level ${row.level}` : ''})`,
      waitingSince: row.updated_at.toISOString(),
      dueAt,
      href: `/incidents/${row.case_number}`,
    });
    const recovering = row.status === 'registered' || row.status === 'in_recovery';
    if (row.status === 'registered' && isOneOf(['manager'])) tasks.push(task('grade_incident', 'Grade the incident', due));
    if (recovering && row.ladder_level >= 3 && isOneOf(['manager']) && !withGroup.has(row.case_id)) tasks.push(task('form_expert_group', 'Form the expert group', due));
    if (recovering && row.ladder_level === 2 && !row.arrived_on_site_at && isOneOf(['senior_engineer'])) tasks.push(task('incident_on_site', 'Go on site', null));
    if (recovering && (isOneOf(['engineer', 'senior_engineer']) || inGroup.has(row.case_id))) tasks.push(task('restore_incident', 'Restore the service', due));
    if (row.standby_serial && !row.standby_switched_back_at && (row.status === 'restored' || row.status === 'closed') && (isOneOf(['manager', 'senior_engineer']) || inGroup.has(row.case_id))) {
      tasks.push(task('switch_back_standby_unit', `Switch standby unit ${row.standby_serial} back`, null));
    }
  }
  return tasks;
};
