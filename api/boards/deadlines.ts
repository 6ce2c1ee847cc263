import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import type { ApiRoutes } from '../route';
import { pageOf, pageQuerySchema } from '../route';

/*
 * The deadlines board: every deadline a process recorded on its case and that is still to be kept,
 * across processes, read from the database (never recomputed). A deadline is `overdue` once its
 * instant has passed or once its process recorded it as missed (a loan gone overdue, an SLA target
 * breached, an RMA ship-back missed...), `due_soon` within DUE_SOON_HOURS of now, `later` otherwise.
 */

/** "Due soon": the deadline falls within the next 24 hours. */
export const DUE_SOON_HOURS = 24;

export const DEADLINE_KINDS = [
  'spare_part_return',
  'sla_target',
  'incident_escalation',
  'report',
  'write_up',
  'follow_up_call',
  'standby_unit',
  'rma_ship_back',
  'rd_review',
  'part_return',
  'doa_conversion_offer',
] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

export const DEADLINE_STATES = ['overdue', 'due_soon', 'later'] as const;

export const deadlineSchema = z
  .object({
    caseNumber: z.string(),
    kind: z.enum(DEADLINE_KINDS),
    what: z.string().meta({ description: 'What must happen by the deadline' }),
    customerName: z.string().nullable(),
    dueAt: z.string(),
    state: z.enum(DEADLINE_STATES).meta({ description: `overdue: passed, or recorded as missed by its process; due_soon: within ${DUE_SOON_HOURS} h; later` }),
    href: z.string().meta({ description: 'The case resource (its process read model)' }),
  })
  .meta({ id: 'Deadline' });

export const deadlinesQuerySchema = pageQuerySchema.extend({
  state: z.enum(['overdue', 'due_soon', 'all']).default('all').meta({ description: `overdue: passed or recorded as missed; due_soon: not overdue and due within ${DUE_SOON_HOURS} h; all: every open deadline` }),
  kind: z.enum(DEADLINE_KINDS).optional(),
  customerId: z.uuid().optional(),
});

type DeadlineRow = { case_number: string; kind: DeadlineKind; what: string; customer_id: string | null; customer_name: string | null; due_at: Date; missed: boolean; href: string };

/**
 * One row per open deadline: where each process keeps it. A row is left out once the thing it waits
 * for happened (returned, met, submitted, called, shipped, received, answered) or its case closed.
 */
function openDeadlines(): RawBuilder<DeadlineRow> {
  return sql<DeadlineRow>`
    select l.loan_number as case_number, 'spare_part_return' as kind,
           'Return the failed part of loan ' || l.loan_number as what,
           l.customer_id, l.return_due_at as due_at, l.overdue_at is not null as missed,
           '/spare-parts/' || l.loan_number as href
      from spare_part_loans l
     where l.status in ('awaiting_return', 'overdue') and l.return_due_at is not null
    union all
    select f.case_number, 'sla_target',
           'SLA target ' || replace(t.target->>'name', '_', ' ') || ' (' || f.severity || ')',
           f.customer_id, (t.target->>'dueAt')::timestamptz, t.target->>'state' = 'missed',
           '/fault-repairs/' || f.case_number
      from fault_repairs f
      join cases c on c.id = f.case_id
      cross join lateral jsonb_array_elements(case when jsonb_typeof(f.sla_targets) = 'array' then f.sla_targets else '[]'::jsonb end) as t(target)
     where c.closed_at is null and f.restored_at is null
       and t.target->>'state' in ('pending', 'missed') and t.target->>'metAt' is null and t.target->>'dueAt' is not null
    union all
    select f.case_number, 'report', 'Fault report', f.customer_id, f.fault_report_due_at, f.fault_report_missed_at is not null, '/fault-repairs/' || f.case_number
      from fault_repairs f join cases c on c.id = f.case_id
     where c.closed_at is null and f.fault_report_due_at is not null and f.fault_report_submitted_at is null
    union all
    select f.case_number, 'follow_up_call', 'Follow-up call to the customer', f.customer_id, f.follow_up_due_at, f.follow_up_escalated_at is not null, '/fault-repairs/' || f.case_number
      from fault_repairs f join cases c on c.id = f.case_id
     where c.closed_at is null and f.follow_up_due_at is not null and f.follow_up_called_at is null
    union all
    select f.case_number, 'write_up', 'Case write-up', f.customer_id, f.write_up_due_at, false, '/fault-repairs/' || f.case_number
      from fault_repairs f join cases c on c.id = f.case_id
     where c.closed_at is null and f.write_up_due_at is not null and f.write_up_state in ('awaiting', 'returned', 'submitted')
    union all
    select i.case_number, 'incident_escalation',
           'Next escalation of the ladder (now level ' || i.ladder_level || coalesce(', incident level ' || i.level, '') || ')',
           i.customer_id, i.next_escalation_at, false, '/incidents/' || i.case_number
      from incidents i
     where i.status in ('registered', 'in_recovery') and i.next_escalation_at is not null
    union all
    select i.case_number, 'standby_unit', 'Switch standby unit ' || i.standby_serial || ' back (due at restoration)',
           i.customer_id, i.restored_at, i.standby_chase_count > 0, '/incidents/' || i.case_number
      from incidents i
     where i.standby_serial is not null and i.standby_switched_back_at is null and i.restored_at is not null and i.status in ('restored', 'closed')
    union all
    select o.case_number, 'report', 'Emergency-recovery summary report', c.customer_id, o.summary_due_at, o.summary_missed_at is not null, '/incidents/' || o.case_number || '/close-out'
      from incident_close_outs o join cases c on c.id = o.case_id
     where c.closed_at is null and o.superseded_at is null and o.status in ('reporting', 'review_meeting') and o.summary_state <> 'delivered'
    union all
    select o.case_number, 'report', 'Expert group summary', c.customer_id, o.group_summary_due_at, false, '/incidents/' || o.case_number || '/close-out'
      from incident_close_outs o join cases c on c.id = o.case_id
     where c.closed_at is null and o.superseded_at is null and o.status in ('reporting', 'review_meeting') and o.group_summary_submitted_at is null
    union all
    select o.case_number, 'follow_up_call', 'Follow-up with the customer after the incident', c.customer_id, o.follow_up_due_at, false, '/incidents/' || o.case_number || '/close-out'
      from incident_close_outs o join cases c on c.id = o.case_id
     where c.closed_at is null and o.superseded_at is null and o.status in ('reporting', 'review_meeting') and o.follow_up_done_at is null
    union all
    select r.case_number, 'rma_ship_back', 'Ship the repaired parts back', r.customer_id, r.ship_due_at, r.due_missed_at is not null, '/rma-repairs/' || r.case_number
      from rma_repairs r
     where r.case_number is not null and r.ship_due_at is not null and r.shipped_at is null
       and r.status in ('awaiting_return', 'discrepancy', 'in_repair', 'in_stock_repair', 'awaiting_shipment')
    union all
    select s.campaign_number, 'rd_review', 'R&D review of the high-risk plan for site ' || st.name, s.customer_id, s.rd_review_due_at, s.rd_review_overdue_at is not null,
           '/rectification-campaigns/' || s.campaign_number || '/sites/' || s.site_id
      from rectification_sites s join sites st on st.id = s.site_id
     where s.rd_review_due_at is not null and s.rd_review_finished_at is null and s.status not in ('archived', 'declined')
    union all
    select s.campaign_number, 'part_return', 'Return of replaced part ' || p.serial || ' from site ' || st.name, s.customer_id, p.return_due_at, p.overdue_at is not null,
           '/rectification-campaigns/' || s.campaign_number || '/sites/' || s.site_id
      from rectification_returned_parts p
      join rectification_sites s on s.campaign_case_id = p.campaign_case_id and s.site_id = p.site_id
      join sites st on st.id = s.site_id
     where p.return_due_at is not null and p.status <> 'received'
    union all
    select d.case_number, 'doa_conversion_offer', 'Customer answers the offer to convert to an RMA repair', d.customer_id, d.conversion_offer_ends_at, false, '/doa-claims/' || d.case_number
      from doa_claims d join cases c on c.id = d.case_id
     where c.closed_at is null and d.conversion_offer_ends_at is not null and d.conversion_answered_at is null
  `;
}

export async function listDeadlines(db: Db, now: Date, query: z.output<typeof deadlinesQuerySchema>) {
  const soonUntil = new Date(now.getTime() + DUE_SOON_HOURS * 3_600_000);
  const overdue = sql`(d.missed or d.due_at <= ${now})`;
  const filters = [
    query.state === 'overdue' ? overdue : query.state === 'due_soon' ? sql`(not ${overdue} and d.due_at <= ${soonUntil})` : sql`true`,
    query.kind ? sql`d.kind = ${query.kind}` : sql`true`,
    query.customerId ? sql`d.customer_id = ${query.customerId}` : sql`true`,
  ];
  const where = sql.join(filters, sql` and `);
  const [rows, count] = await Promise.all([
    sql<DeadlineRow & { state: (typeof DEADLINE_STATES)[number] }>`
      select d.*, k.name as customer_name,
             case when ${overdue} then 'overdue' when d.due_at <= ${soonUntil} then 'due_soon' else 'later' end as state
        from (${openDeadlines()}) d left join customers k on k.id = d.customer_id
       where ${where}
       order by d.due_at, d.case_number, d.kind, d.what
       limit ${query.limit} offset ${query.offset}`.execute(db),
    sql<{ total: string }>`select count(*)::text as total from (${openDeadlines()}) d where ${where}`.execute(db),
  ]);
  return {
    items: rows.rows.map((row) => ({
      caseNumber: row.case_number,
      kind: row.kind,
      what: row.what,
      customerName: row.customer_name,
      dueAt: new Date(row.due_at).toISOString(),
      state: row.state,
      href: row.href,
    })),
    total: Number(count.rows[0]!.total),
    limit: query.limit,
    offset: query.offset,
  };
}

export function registerDeadlineBoardRoutes(routes: ApiRoutes, deps: { db: Db; clock: Clock }): void {
  routes.add({
    method: 'get', path: '/boards/deadlines', tag: 'Boards',
    summary: `Deadlines across processes, soonest first: overdue (passed, or recorded as missed by the process) and due soon (within ${DUE_SOON_HOURS} h), by kind and customer`,
    access: { roles: [] },
    query: deadlinesQuerySchema,
    response: { schema: pageOf(deadlineSchema) },
    handler: async ({ query }) => listDeadlines(deps.db, deps.clock.now(), query),
  });
}
