import type { UserRole } from '../../db/schema';
import type { DoaClaimStatus } from '../../workflows/doa-claim/definitions';
import type { Task, TaskSource } from '../me/tasks';

/** Each status of a claim that waits for staff: the task, who does it, and its words. */
const STAFF_STEPS: Partial<Record<DoaClaimStatus, { kind: Task['kind']; roles: readonly UserRole[]; what: string }>> = {
  assessment: { kind: 'assess_doa_claim', roles: ['service_desk', 'manager'], what: 'Check the DOA conditions against the evidence' },
  replacement_approval: { kind: 'approve_doa_replacement', roles: ['manager'], what: 'Approve a new unit for the accepted DOA claim' },
  replacement_shipping: { kind: 'ship_doa_replacement', roles: ['service_desk', 'manager'], what: 'Ship the new unit of the DOA claim' },
};

/** DOA claims' part of GET /me/tasks: assessment and shipping for the desk, the new unit's approval for the manager. */
export const doaClaimTasks: TaskSource = async (db, actor) => {
  const statuses = (Object.keys(STAFF_STEPS) as DoaClaimStatus[]).filter((status) => STAFF_STEPS[status]!.roles.includes(actor.role));
  if (statuses.length === 0) return [];
  const rows = await db
    .selectFrom('doa_claims as a')
    .innerJoin('customers as k', 'k.id', 'a.customer_id')
    .select(['a.case_number', 'a.status', 'a.updated_at', 'k.name as customer_name'])
    .where('a.status', 'in', statuses)
    .execute();
  return rows.map((row): Task => {
    const step = STAFF_STEPS[row.status]!;
    return {
      kind: step.kind,
      process: 'doa_claim',
      caseNumber: row.case_number,
      title: `${step.what}: ${row.case_number} (${row.customer_name})`,
      waitingSince: new Date(row.updated_at).toISOString(),
      dueAt: null,
      href: `/doa-claims/${row.case_number}`,
    };
  });
};
