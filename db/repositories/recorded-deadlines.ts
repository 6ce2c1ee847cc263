import type { DbExecutor } from '../index';

/** What a recorded deadline is for: each is counted on the business calendar when its clock starts. */
export const CALENDAR_DEADLINE_KINDS = ['spare_part_return', 'rma_ship_back', 'fault_repair_restoration', 'incident_escalation', 'incident_summary_report'] as const;
export type CalendarDeadlineKind = (typeof CALENDAR_DEADLINE_KINDS)[number];

export interface RecordedDeadline {
  caseNumber: string;
  caseKind: string;
  kind: CalendarDeadlineKind;
  /** When its count started (receipt, report, restoration, entering the level). */
  countedFrom: Date;
  dueAt: Date;
}

const RULES: Record<CalendarDeadlineKind, { en: string; zh: string }> = {
  spare_part_return: { en: 'Return of the failed part: 15 working days after receipt', zh: '故障件归还：收货后 15 个工作日' },
  rma_ship_back: { en: "Ship-back of the repaired parts: by the customer's SLA class from the last part's arrival", zh: '修复件寄回：自最后一件到货起按客户 SLA 等级计算' },
  fault_repair_restoration: { en: "Restoration: by the contract's SLA class from the report", zh: '恢复：自报障起按合同 SLA 等级计算' },
  incident_escalation: { en: 'Next escalation of the incident ladder (1 working day at level 3)', zh: '应急事件下一次升级（第 3 级为 1 个工作日）' },
  incident_summary_report: { en: 'Incident summary report: working days after restoration', zh: '应急事件总结报告：恢复后若干工作日' },
};

export const ruleOfDeadline = (kind: CalendarDeadlineKind) => RULES[kind];

/**
 * Every deadline still open that was counted on the business calendar and recorded on its case:
 * deadlines are computed once, when their clock starts, and never recomputed, so a later edit of
 * the calendar does not move any of these. Deadlines kept in plain hours or days (fault report,
 * follow-up call, write-up) do not depend on the calendar and are not listed.
 */
export async function listOpenCalendarDeadlines(db: DbExecutor): Promise<RecordedDeadline[]> {
  const [loans, rmas, repairs, incidents, closeOuts] = await Promise.all([
    db
      .selectFrom('spare_part_loans as l')
      .innerJoin('cases as c', 'c.id', 'l.case_id')
      .select(['c.number', 'c.kind', 'l.received_at', 'l.return_due_at'])
      .where('l.return_due_at', 'is not', null)
      .where('l.received_at', 'is not', null)
      .where('l.returned_at', 'is', null)
      .where('l.written_off_at', 'is', null)
      .execute(),
    db
      .selectFrom('rma_repairs as r')
      .innerJoin('cases as c', 'c.id', 'r.case_id')
      .select(['c.number', 'c.kind', 'r.received_at', 'r.ship_due_at'])
      .where('r.ship_due_at', 'is not', null)
      .where('r.received_at', 'is not', null)
      .where('r.shipped_at', 'is', null)
      .execute(),
    db
      .selectFrom('fault_repairs as f')
      .innerJoin('cases as c', 'c.id', 'f.case_id')
      .select(['c.number', 'c.kind', 'f.reported_at', 'f.sla_targets'])
      .where('f.sla_targets', 'is not', null)
      .where('f.restored_at', 'is', null)
      .where('c.closed_at', 'is', null)
      .execute(),
    db
      .selectFrom('incidents as i')
      .innerJoin('cases as c', 'c.id', 'i.case_id')
      .select(['c.number', 'c.kind', 'i.ladder_entered_at', 'i.next_escalation_at'])
      .where('i.next_escalation_at', 'is not', null)
      .where('i.closed_at', 'is', null)
      .execute(),
    db
      .selectFrom('incident_close_outs as o')
      .innerJoin('cases as c', 'c.id', 'o.case_id')
      .select(['c.number', 'c.kind', 'o.restored_at', 'o.summary_due_at'])
      .where('o.summary_submitted_at', 'is', null)
      .where('o.status', 'in', ['reporting', 'review_meeting'])
      .execute(),
  ]);
  const found: RecordedDeadline[] = [];
  for (const row of loans) found.push({ caseNumber: row.number, caseKind: row.kind, kind: 'spare_part_return', countedFrom: row.received_at!, dueAt: row.return_due_at! });
  for (const row of rmas) found.push({ caseNumber: row.number, caseKind: row.kind, kind: 'rma_ship_back', countedFrom: row.received_at!, dueAt: row.ship_due_at! });
  for (const row of repairs) {
    const targets = (Array.isArray(row.sla_targets) ? row.sla_targets : []) as { name?: unknown; dueAt?: unknown; state?: unknown }[];
    const restoration = targets.find((target) => target.name === 'restoration');
    if (restoration && restoration.state === 'pending' && typeof restoration.dueAt === 'string') {
      found.push({ caseNumber: row.number, caseKind: row.kind, kind: 'fault_repair_restoration', countedFrom: row.reported_at, dueAt: new Date(restoration.dueAt) });
    }
  }
  for (const row of incidents) found.push({ caseNumber: row.number, caseKind: row.kind, kind: 'incident_escalation', countedFrom: row.ladder_entered_at, dueAt: row.next_escalation_at! });
  for (const row of closeOuts) found.push({ caseNumber: row.number, caseKind: row.kind, kind: 'incident_summary_report', countedFrom: row.restored_at, dueAt: row.summary_due_at });
  return found.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.caseNumber.localeCompare(b.caseNumber));
}
