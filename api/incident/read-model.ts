// The read model of an emergency incident: its API shape and how it is read from the database.
import { z } from 'zod';
import type { Db } from '../../db';
import { CUSTOMER_STATED_CAUSES, EXPERT_SPECIALTIES, INCIDENT_ORIGINS, INCIDENT_STATUSES, PLAN_IMPLEMENTERS, type IncidentStatus } from '../../workflows/incident/definitions';
import { ESCALATION_LADDER, type GradingRule, type LadderLevel } from '../../workflows/rules/grading';
import { ApiError } from '../errors';
import { incidentCloseOutSchema, loadIncidentCloseOut } from '../incident-close-out/read-model';
import { documentSchema, loadDocument } from '../sign-off/read-model';

const ruleSchema = z.object({ code: z.string(), level: z.number().int(), en: z.string(), zh: z.string() });
const textPair = z.object({ en: z.string(), zh: z.string() });

export const incidentSchema = z
  .object({
    caseNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(INCIDENT_STATUSES),
    origin: z.enum(INCIDENT_ORIGINS),
    customerId: z.uuid(),
    customerName: z.string(),
    customerClass: z.enum(['A', 'B', 'C']),
    contactId: z.uuid(),
    siteId: z.uuid().nullable(),
    device: z.object({ id: z.uuid(), serial: z.string(), productName: z.string(), productLine: z.string() }).nullable(),
    symptom: z.string(),
    symptomCode: z.string().meta({ description: 'What "the same symptom" compares for the repeat rules' }),
    startedAt: z.string(),
    reportedAt: z.string(),
    reported: z.object({ by: z.string(), role: z.string() }),
    level: z.number().int().min(1).max(3).nullable().meta({ description: '1 (most severe) to 3; null until graded' }),
    grading: z
      .object({
        level: z.number().int(),
        rulesLevel: z.number().int().meta({ description: 'The level the grading rules gave, before a customer-stated cause reported it from level 3' }),
        rules: z.array(ruleSchema).meta({ description: 'Why: every grading rule that matched, the deciding ones included' }),
        impact: z.record(z.string(), z.unknown()),
        gradedAt: z.string(),
        gradedBy: z.string(),
        customerStatedCause: z.object({ cause: z.enum(CUSTOMER_STATED_CAUSES), statement: z.string() }).nullable(),
      })
      .nullable(),
    ladder: z.object({
      level: z.number().int().min(1).max(4),
      who: textPair,
      enteredAt: z.string(),
      nextEscalationAt: z.string().nullable().meta({ description: 'When it moves up if still not restored; null at level 4, at level 2 before the arrival on site, or once restored' }),
      arrivedOnSiteAt: z.string().nullable(),
      history: z.array(z.object({ level: z.number().int(), enteredAt: z.string(), reason: z.string() })),
    }),
    expertGroup: z.object({
      members: z.array(z.object({ userId: z.uuid(), name: z.string(), specialty: z.enum(EXPERT_SPECIALTIES), coordinator: z.boolean(), addedAt: z.string(), addedBy: z.string() })),
      changes: z
        .array(z.object({ userId: z.uuid(), name: z.string(), specialty: z.enum(EXPERT_SPECIALTIES), coordinator: z.boolean(), addedAt: z.string(), addedBy: z.string(), removedAt: z.string().nullable(), removedBy: z.string().nullable() }))
        .meta({ description: 'Every membership, ended ones included, in the order they started' }),
    }),
    contingencyPlans: z.array(z.object({ id: z.uuid(), title: z.string(), steps: z.array(z.string()), ownerUserId: z.uuid(), startedAt: z.string() })),
    recoveryPlans: z.array(
      z.object({
        documentId: z.uuid(),
        testRequired: z.boolean(),
        startedAt: z.string(),
        startedBy: z.string(),
        document: documentSchema,
        implementations: z.array(z.object({ version: z.number().int(), implementedBy: z.enum(PLAN_IMPLEMENTERS), implementedAt: z.string(), restored: z.boolean(), note: z.string().nullable(), recordedBy: z.string() })),
      }),
    ),
    standbyUnit: z
      .object({ serial: z.string(), installedAt: z.string(), switchedBackAt: z.string().nullable(), chases: z.number().int(), lastChasedAt: z.string().nullable() })
      .nullable(),
    interruptedAt: z.string().nullable(),
    restoredAt: z.string().nullable(),
    closeOutRound: z.number().int().meta({ description: 'Restorations so far (each starts a close-out round)' }),
    reopenedCount: z.number().int(),
    notAnIncident: z.object({ reason: z.string(), faultRepairCaseNumber: z.string() }).nullable(),
    linkedCases: z
      .array(z.object({ caseNumber: z.string(), kind: z.string(), relation: z.enum(['origin', 'fault_repair', 'continues', 'continued_by']) }))
      .meta({ description: 'origin: the case it came from; fault_repair: it went on as this fault repair; continues / continued_by: the same symptom within 24 h of a recovery' }),
    closeOut: incidentCloseOutSchema.nullable(),
    closedAt: z.string().nullable(),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() })),
  })
  .meta({ id: 'Incident' });
export type IncidentDto = z.input<typeof incidentSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

export async function loadIncident(db: Db, caseNumber: string, withDetails = true): Promise<IncidentDto> {
  const row = await db
    .selectFrom('incidents as i')
    .innerJoin('cases as k', 'k.id', 'i.case_id')
    .innerJoin('customers as c', 'c.id', 'i.customer_id')
    .leftJoin('devices as d', 'd.id', 'i.device_id')
    .leftJoin('products as p', 'p.id', 'i.product_id')
    .selectAll('i')
    .select(['k.workflow_id', 'c.name as customer_name', 'c.customer_class', 'd.serial as device_serial', 'p.name as product_name', 'p.product_line'])
    .where('i.case_number', '=', caseNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('incident', caseNumber);
  const linkedIds = [row.origin_case_id, row.fault_repair_case_id, row.continues_case_id].filter((id): id is string => id !== null);
  const [events, members, contingency, plans, implementations, linked, continuedBy, closeOut] = await Promise.all([
    withDetails ? db.selectFrom('audit_events').selectAll().where('case_id', '=', row.case_id).orderBy('occurred_at').orderBy('id').execute() : Promise.resolve([]),
    db
      .selectFrom('incident_expert_group_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'u.name', 'm.specialty', 'm.coordinator', 'm.added_at', 'm.added_by', 'm.removed_at', 'm.removed_by'])
      .where('m.case_id', '=', row.case_id)
      .orderBy('m.added_at')
      .orderBy('m.coordinator', 'desc')
      .orderBy('u.name')
      .execute(),
    db
      .selectFrom('incident_contingency_plans as s')
      .innerJoin('contingency_plans as p', 'p.id', 's.contingency_plan_id')
      .select(['p.id', 'p.title', 'p.steps', 'p.owner_user_id', 's.started_at'])
      .where('s.case_id', '=', row.case_id)
      .orderBy('s.started_at')
      .execute(),
    db.selectFrom('incident_recovery_plans').selectAll().where('case_id', '=', row.case_id).orderBy('started_at').execute(),
    db.selectFrom('incident_plan_implementations').selectAll().where('case_id', '=', row.case_id).orderBy('recorded_at').execute(),
    linkedIds.length > 0 ? db.selectFrom('cases').select(['id', 'number', 'kind']).where('id', 'in', linkedIds).execute() : Promise.resolve([]),
    db.selectFrom('incidents').select(['case_number']).where('continues_case_id', '=', row.case_id).orderBy('case_number').execute(),
    loadIncidentCloseOut(db, row.case_id),
  ]);
  const documents = await Promise.all(plans.map((plan) => loadDocument(db, plan.document_id)));
  const numberOf = (id: string | null) => linked.find((candidate) => candidate.id === id);
  const linkedCases: IncidentDto['linkedCases'] = [];
  const link = (id: string | null, relation: IncidentDto['linkedCases'][number]['relation']) => {
    const found = numberOf(id);
    if (found) linkedCases.push({ caseNumber: found.number, kind: found.kind, relation });
  };
  link(row.origin_case_id, 'origin');
  link(row.fault_repair_case_id, 'fault_repair');
  link(row.continues_case_id, 'continues');
  for (const later of continuedBy) linkedCases.push({ caseNumber: later.case_number, kind: 'incident', relation: 'continued_by' });
  const rules = (Array.isArray(row.grading_rules) ? row.grading_rules : []) as GradingRule[];
  const ladderLevel = row.ladder_level as LadderLevel;
  const active = members.filter((member) => member.removed_at === null);
  return {
    caseNumber: row.case_number,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    status: row.status as IncidentStatus,
    origin: row.origin,
    customerId: row.customer_id,
    customerName: row.customer_name,
    customerClass: row.customer_class,
    contactId: row.contact_id,
    siteId: row.site_id,
    device: row.device_id ? { id: row.device_id, serial: row.device_serial ?? '', productName: row.product_name ?? '', productLine: row.product_line ?? '' } : null,
    symptom: row.symptom,
    symptomCode: row.symptom_code,
    startedAt: iso(row.started_at)!,
    reportedAt: iso(row.reported_at)!,
    reported: { by: row.reported_by, role: row.reported_by_role },
    level: row.level,
    grading:
      row.level !== null && row.graded_at
        ? {
            level: row.level,
            rulesLevel: row.rules_level ?? row.level,
            rules,
            impact: (row.impact ?? {}) as Record<string, unknown>,
            gradedAt: iso(row.graded_at)!,
            gradedBy: row.graded_by ?? '',
            customerStatedCause: row.customer_stated_cause ? { cause: row.customer_stated_cause, statement: row.customer_cause_statement ?? '' } : null,
          }
        : null,
    ladder: {
      level: ladderLevel,
      who: ESCALATION_LADDER[ladderLevel].who,
      enteredAt: iso(row.ladder_entered_at)!,
      nextEscalationAt: iso(row.next_escalation_at),
      arrivedOnSiteAt: iso(row.arrived_on_site_at),
      history: (Array.isArray(row.ladder_history) ? row.ladder_history : []) as { level: number; enteredAt: string; reason: string }[],
    },
    expertGroup: {
      members: active.map((member) => ({ userId: member.user_id, name: member.name, specialty: member.specialty, coordinator: member.coordinator, addedAt: iso(member.added_at)!, addedBy: member.added_by })),
      changes: members.map((member) => ({
        userId: member.user_id,
        name: member.name,
        specialty: member.specialty,
        coordinator: member.coordinator,
        addedAt: iso(member.added_at)!,
        addedBy: member.added_by,
        removedAt: iso(member.removed_at),
        removedBy: member.removed_by,
      })),
    },
    contingencyPlans: contingency.map((plan) => ({ id: plan.id, title: plan.title, steps: plan.steps as string[], ownerUserId: plan.owner_user_id, startedAt: iso(plan.started_at)! })),
    recoveryPlans: plans.map((plan, index) => ({
      documentId: plan.document_id,
      testRequired: plan.test_required,
      startedAt: iso(plan.started_at)!,
      startedBy: plan.started_by,
      document: documents[index]!,
      implementations: implementations
        .filter((implementation) => implementation.document_id === plan.document_id)
        .map((implementation) => ({
          version: implementation.version,
          implementedBy: implementation.implemented_by,
          implementedAt: iso(implementation.implemented_at)!,
          restored: implementation.restored,
          note: implementation.note,
          recordedBy: implementation.recorded_by,
        })),
    })),
    standbyUnit: row.standby_serial
      ? { serial: row.standby_serial, installedAt: iso(row.standby_installed_at)!, switchedBackAt: iso(row.standby_switched_back_at), chases: row.standby_chase_count, lastChasedAt: iso(row.standby_last_chased_at) }
      : null,
    interruptedAt: iso(row.interrupted_at),
    restoredAt: iso(row.restored_at),
    closeOutRound: row.close_out_round,
    reopenedCount: row.reopened_count,
    notAnIncident: row.not_an_incident_reason !== null && row.fault_repair_case_id ? { reason: row.not_an_incident_reason, faultRepairCaseNumber: numberOf(row.fault_repair_case_id)?.number ?? '' } : null,
    linkedCases,
    closeOut,
    closedAt: iso(row.closed_at),
    timeline: events.map((event) => ({ at: iso(event.occurred_at)!, actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}
