import type { UserRole } from '../../db/schema';
import type { SlaTarget, SlaTargetName } from '../../workflows/fault-repair/definitions';
import type { Task, TaskSource } from '../me/tasks';

/** Fault repair's part of GET /me/tasks: each open step with the SLA target it races against as its deadline. */
export const faultRepairTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('fault_repairs as f')
    .innerJoin('cases as c', 'c.id', 'f.case_id')
    .innerJoin('customers as k', 'k.id', 'f.customer_id')
    .select(['f.case_number', 'f.status', 'f.sla_targets', 'f.engineer_user_id', 'f.reported_at', 'f.updated_at', 'k.name as customer_name'])
    .where('c.closed_at', 'is', null)
    .where('f.status', 'in', ['diagnosis', 'awaiting_dispatch', 'dispatched', 'on_site', 'in_progress'])
    .execute();
  const isOneOf = (roles: readonly UserRole[]) => roles.includes(actor.role);
  const tasks: Task[] = [];
  for (const row of rows) {
    const targets = (Array.isArray(row.sla_targets) ? row.sla_targets : []) as SlaTarget[];
    const pendingDue = (name: SlaTargetName): string | null => {
      const target = targets.find((candidate) => candidate.name === name);
      return target && target.state === 'pending' ? target.dueAt : null;
    };
    const task = (kind: Task['kind'], what: string, dueAt: string | null): Task => ({
      kind,
      process: 'fault_repair',
      caseNumber: row.case_number,
      title: `${what}: ${row.case_number} (${row.customer_name})`,
      waitingSince: new Date(row.updated_at).toISOString(),
      dueAt: dueAt ? new Date(dueAt).toISOString() : null,
      href: `/fault-repairs/${row.case_number}`,
    });
    const phoneDue = pendingDue('phone_response');
    if (phoneDue && isOneOf(['service_desk', 'manager', 'engineer', 'senior_engineer'])) tasks.push(task('record_first_response', 'Call the customer back', phoneDue));
    const assignedToMe = row.engineer_user_id === actor.id;
    if (row.status === 'diagnosis' && isOneOf(['engineer', 'senior_engineer'])) tasks.push(task('diagnose', 'Diagnose remotely', pendingDue('temporary_solution') ?? pendingDue('restoration')));
    if (row.status === 'awaiting_dispatch' && isOneOf(['manager'])) tasks.push(task('dispatch', 'Dispatch an engineer', pendingDue('on_site') ?? pendingDue('restoration')));
    if (row.status === 'dispatched' && assignedToMe) tasks.push(task('arrive_on_site', 'Go on site', pendingDue('on_site') ?? pendingDue('restoration')));
    if ((row.status === 'on_site' || row.status === 'in_progress') && assignedToMe) tasks.push(task('repair', 'Repair and restore the service', pendingDue('restoration')));
  }
  return tasks;
};
