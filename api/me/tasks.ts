import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import { STEP_DECIDERS, type SignOffStep } from '../../workflows/sign-off/definitions';
import type { Actor } from '../auth';
import { signOffStateOf } from '../sign-off/read-model';

// What is waiting for the calling user, across processes: each process contributes a task source.

export const TASK_KINDS = [
  'approve_loan',
  'ship_loan',
  'settle_overdue_loan',
  'decide_document',
  'revise_document',
  'record_first_response',
  'diagnose',
  'dispatch',
  'arrive_on_site',
  'repair',
  'write_fault_report',
  'follow_up_call',
  'write_up',
  'review_write_up',
  'receive_rma_parts',
  'resolve_rma_discrepancy',
  'repair_rma_parts',
  'ship_rma_back',
  'assess_doa_claim',
  'approve_doa_replacement',
  'ship_doa_replacement',
  'grade_incident',
  'form_expert_group',
  'incident_on_site',
  'restore_incident',
  'switch_back_standby_unit',
  'write_incident_report',
  'write_incident_summary',
  'review_incident_summary',
  'customise_incident_summary',
  'incident_follow_up',
  'write_group_summary',
  'schedule_review_meeting',
  'record_review_minutes',
  'resolve_goods_claim',
  'submit_rectification_plan',
  'write_rectification_agreement',
  'review_rectification_plan',
  'pick_rectification_materials',
  'propose_rectification_slot',
  'implement_rectification',
  'receive_rectification_parts',
] as const;

export const taskSchema = z
  .object({
    kind: z.enum(TASK_KINDS),
    process: z.string(),
    caseNumber: z.string(),
    title: z.string(),
    waitingSince: z.string(),
    dueAt: z.string().nullable().meta({ description: 'When it must be done by, where a rule says so' }),
    href: z.string().meta({ description: 'The API resource to act on' }),
  })
  .meta({ id: 'Task' });
export type Task = z.input<typeof taskSchema>;

export type TaskSource = (db: Db, actor: Actor) => Promise<Task[]>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
const hasRole = (actor: Actor, roles: readonly UserRole[]) => roles.includes(actor.role);

/** Spare part first: the manager approves, the desk ships, billing and the desk settle overdue loans. */
export const sparePartTasks: TaskSource = async (db, actor) => {
  const statuses = [
    ...(hasRole(actor, ['manager']) ? (['pending_approval'] as const) : []),
    ...(hasRole(actor, ['service_desk', 'manager']) ? (['approved'] as const) : []),
    ...(hasRole(actor, ['billing', 'manager']) ? (['overdue'] as const) : []),
  ];
  if (statuses.length === 0) return [];
  const loans = await db
    .selectFrom('spare_part_loans as l')
    .innerJoin('customers as c', 'c.id', 'l.customer_id')
    .select(['l.loan_number', 'l.status', 'l.applied_at', 'l.decided_at', 'l.overdue_at', 'c.name as customer_name'])
    .where('l.status', 'in', statuses)
    .execute();
  return loans.map((loan): Task => {
    const kind = loan.status === 'pending_approval' ? 'approve_loan' : loan.status === 'approved' ? 'ship_loan' : 'settle_overdue_loan';
    return {
      kind,
      process: 'spare_part',
      caseNumber: loan.loan_number,
      title: `${kind === 'approve_loan' ? 'Approve' : kind === 'ship_loan' ? 'Ship the replacement for' : 'Settle the overdue'} spare-part loan ${loan.loan_number} (${loan.customer_name})`,
      waitingSince: iso(loan.status === 'pending_approval' ? loan.applied_at : loan.status === 'approved' ? loan.decided_at : loan.overdue_at) ?? iso(loan.applied_at)!,
      dueAt: null,
      href: `/spare-parts/${loan.loan_number}`,
    };
  });
};

/** Documents: a step waiting for the caller's role, and versions sent back to their author. */
export const documentTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('documents as d')
    .innerJoin('cases as c', 'c.id', 'd.case_id')
    .innerJoin(
      (eb) => eb.selectFrom('document_versions').select(['document_id', (inner) => inner.fn.max('version').as('version')]).groupBy('document_id').as('latest'),
      (join) => join.onRef('latest.document_id', '=', 'd.id'),
    )
    .innerJoin('document_versions as v', (join) => join.onRef('v.document_id', '=', 'd.id').onRef('v.version', '=', 'latest.version'))
    .select([
      'd.id',
      'd.title',
      'd.steps',
      'c.number as case_number',
      'v.version',
      'v.submitted_at',
      'v.submitted_by_user_id',
      sql<{ version: number; step: SignOffStep | 'withdrawal'; decision: string; decided_at: string }[]>`coalesce((
        select json_agg(json_build_object('version', dd.version, 'step', dd.step, 'decision', dd.decision, 'decided_at', dd.decided_at))
        from document_decisions dd where dd.document_id = d.id and (dd.version = v.version or dd.step = 'withdrawal')), '[]'::json)`.as('decisions'),
    ])
    .where('c.closed_at', 'is', null)
    .execute();
  const tasks: Task[] = [];
  for (const row of rows) {
    const decisions = row.decisions.map((decision) => ({ ...decision, decision: decision.decision as never }));
    const { status, waitingFor } = signOffStateOf(row.steps, row.version, decisions);
    const lastDecision = decisions.filter((decision) => decision.version === row.version).map((decision) => decision.decided_at).sort().at(-1);
    const since = iso(lastDecision ?? row.submitted_at)!;
    if (status === 'in_review' && waitingFor && waitingFor !== 'customer_signature' && STEP_DECIDERS[waitingFor].includes(actor.role)) {
      tasks.push({ kind: 'decide_document', process: 'sign_off', caseNumber: row.case_number, title: `${waitingFor.replace(/_/g, ' ')}: ${row.title} v${row.version} (${row.case_number})`, waitingSince: since, dueAt: null, href: `/documents/${row.id}` });
    }
    if (status === 'awaiting_version' && row.submitted_by_user_id === actor.id) {
      tasks.push({ kind: 'revise_document', process: 'sign_off', caseNumber: row.case_number, title: `Write version ${row.version + 1} of ${row.title} (reopened, ${row.case_number})`, waitingSince: since, dueAt: null, href: `/documents/${row.id}` });
    }
    if (status === 'returned' && row.submitted_by_user_id === actor.id) {
      tasks.push({ kind: 'revise_document', process: 'sign_off', caseNumber: row.case_number, title: `Revise ${row.title} (v${row.version} was sent back, ${row.case_number})`, waitingSince: since, dueAt: null, href: `/documents/${row.id}` });
    }
  }
  return tasks;
};

/** Every source's tasks for `actor`: those with a deadline first, soonest first, then the longest waiting. */
export async function tasksFor(db: Db, actor: Actor, sources: readonly TaskSource[]): Promise<Task[]> {
  const tasks = (await Promise.all(sources.map((source) => source(db, actor)))).flat();
  return tasks.sort((a, b) => {
    if (a.dueAt && b.dueAt) return a.dueAt.localeCompare(b.dueAt);
    if (a.dueAt || b.dueAt) return a.dueAt ? -1 : 1;
    return a.waitingSince.localeCompare(b.waitingSince);
  });
}
