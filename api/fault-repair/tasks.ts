import type { UserRole } from '../../db/schema';
import type { SlaTarget, SlaTargetName } from '../../workflows/fault-repair/definitions';
import type { Task, TaskSource } from '../me/tasks';

/** Fault repair's part of GET /me/tasks: each open step with the SLA target it races against as its deadline. */
export const faultRepairTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('fault_repairs as f')
    .innerJoin('cases as c', 'c.id', 'f.case_id')
    .innerJoin('customers as k', 'k.id', 'f.customer_id')
    .select([
      'f.case_number',
      'f.status',
      'f.sla_targets',
      'f.engineer_user_id',
      'f.reported_at',
      'f.updated_at',
      'f.restored_at',
      'f.fault_report_due_at',
      'f.fault_report_submitted_at',
      'f.follow_up_due_at',
      'f.follow_up_called_at',
      'f.write_up_due_at',
      'f.write_up_state',
      'k.name as customer_name',
    ])
    .where('c.closed_at', 'is', null)
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
    // Once the service is restored, a first response no one recorded is only a missed target, not a call to make.
    if (phoneDue && !row.restored_at && isOneOf(['service_desk', 'manager', 'engineer', 'senior_engineer'])) tasks.push(task('record_first_response', 'Call the customer back', phoneDue));
    const assignedToMe = row.engineer_user_id === actor.id;
    if (row.status === 'diagnosis' && isOneOf(['engineer', 'senior_engineer'])) tasks.push(task('diagnose', 'Diagnose remotely', pendingDue('temporary_solution') ?? pendingDue('restoration')));
    if (row.status === 'awaiting_dispatch' && isOneOf(['manager'])) tasks.push(task('dispatch', 'Dispatch an engineer', pendingDue('on_site') ?? pendingDue('restoration')));
    if (row.status === 'dispatched' && assignedToMe) tasks.push(task('arrive_on_site', 'Go on site', pendingDue('on_site') ?? pendingDue('restoration')));
    if ((row.status === 'on_site' || row.status === 'in_progress') && assignedToMe) tasks.push(task('repair', 'Repair and restore the service', pendingDue('restoration')));
    const due = (value: Date | null): string | null => (value ? new Date(value).toISOString() : null);
    if (row.restored_at && !row.fault_report_submitted_at && assignedToMe) tasks.push(task('write_fault_report', 'Write the fault report', due(row.fault_report_due_at)));
    if (row.follow_up_due_at && !row.follow_up_called_at && isOneOf(['service_desk'])) tasks.push(task('follow_up_call', 'Call the customer back after the repair', due(row.follow_up_due_at)));
    if (row.restored_at && (row.write_up_state === 'awaiting' || row.write_up_state === 'returned') && assignedToMe) tasks.push(task('write_up', 'Write up the case', due(row.write_up_due_at)));
    if (row.write_up_state === 'submitted' && isOneOf(['manager'])) tasks.push(task('review_write_up', 'Review the write-up', due(row.write_up_due_at)));
  }
  return tasks;
};
