import type { UserRole } from '../../db/schema';
import type { RmaRepairStatus } from '../../workflows/rma-repair/definitions';
import type { Task, TaskSource } from '../me/tasks';

/** RMA repair's part of GET /me/tasks: parts to receive, mismatches to settle, parts to repair, parcels to ship back (by the deadline). */
export const rmaRepairTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('rma_repairs as r')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .select(['r.case_number', 'r.status', 'r.ship_due_at', 'r.updated_at', 'c.name as customer_name'])
    .where('r.case_number', 'is not', null)
    .where('r.status', 'in', ['awaiting_return', 'discrepancy', 'in_repair', 'in_stock_repair', 'awaiting_shipment'])
    .execute();
  const isOneOf = (roles: readonly UserRole[]) => roles.includes(actor.role);
  const desk = isOneOf(['service_desk', 'manager']);
  const engineer = isOneOf(['engineer', 'senior_engineer']);
  const tasks: Task[] = [];
  for (const row of rows) {
    const caseNumber = row.case_number!;
    const task = (kind: Task['kind'], what: string, dueAt: Date | null): Task => ({
      kind,
      process: 'rma_repair',
      caseNumber,
      title: `${what}: ${caseNumber} (${row.customer_name})`,
      waitingSince: new Date(row.updated_at).toISOString(),
      dueAt: dueAt ? new Date(dueAt).toISOString() : null,
      href: `/rma-repairs/${caseNumber}`,
    });
    const status = row.status as RmaRepairStatus;
    if (status === 'awaiting_return' && desk) tasks.push(task('receive_rma_parts', 'Receive the returned parts', null));
    if (status === 'discrepancy' && desk) tasks.push(task('resolve_rma_discrepancy', 'Settle a part whose serial does not match', null));
    if ((status === 'in_repair' || status === 'in_stock_repair') && engineer) tasks.push(task('repair_rma_parts', 'Repair the returned parts', row.ship_due_at));
    if (status === 'awaiting_shipment' && desk) tasks.push(task('ship_rma_back', 'Ship the repaired parts back', row.ship_due_at));
  }
  return tasks;
};
