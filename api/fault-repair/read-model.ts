// The read model of a fault repair: its API shape and how it is read from the database.
import { z } from 'zod';
import type { Db } from '../../db';
import { FAULT_REPAIR_STATUSES, FAULT_SEVERITIES, SLA_TARGET_NAMES, type SlaTarget } from '../../workflows/fault-repair/definitions';
import { SIGN_OFF_STATUSES } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import { loadDocument } from '../sign-off/read-model';

const documentRef = z.object({ id: z.uuid(), status: z.enum(SIGN_OFF_STATUSES), currentVersion: z.number().int() }).nullable();

export const faultRepairSchema = z
  .object({
    caseNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(FAULT_REPAIR_STATUSES),
    customerId: z.uuid(),
    customerName: z.string(),
    contactId: z.uuid(),
    deviceSerial: z.string(),
    siteId: z.uuid().nullable(),
    symptoms: z.string(),
    actionsTaken: z.string(),
    suspectedCause: z.string(),
    severity: z.enum(FAULT_SEVERITIES),
    reportedAt: z.string(),
    registered: z.object({ by: z.string(), role: z.string() }),
    targets: z.array(
      z.object({
        name: z.enum(SLA_TARGET_NAMES),
        dueAt: z.string().nullable(),
        warnAt: z.string().nullable(),
        rule: z.object({ en: z.string(), zh: z.string() }),
        state: z.enum(['pending', 'met', 'missed', 'not_applicable']),
        warnedAt: z.string().nullable(),
        breachedAt: z.string().nullable(),
        metAt: z.string().nullable(),
        marginMinutes: z.number().int().nullable().meta({ description: 'Minutes early (positive) or late (negative) of the milestone' }),
      }),
    ),
    diagnosis: z.object({ outcome: z.enum(['solved_remotely', 'needs_plan']), findings: z.string().nullable() }).nullable(),
    plan: documentRef,
    highRiskOperations: z.array(z.string()),
    serviceReport: documentRef,
    engineer: z.object({ userId: z.uuid(), name: z.string() }).nullable(),
    appointmentAt: z.string().nullable(),
    arrivedAt: z.string().nullable(),
    workStartedAt: z.string().nullable(),
    maintenanceWindowEndsAt: z.string().nullable(),
    windowOverrunAt: z.string().nullable(),
    workFinishedAt: z.string().nullable(),
    result: z.enum(['fixed', 'not_fixed', 'solved_remotely']).nullable(),
    resultNote: z.string().nullable(),
    restoredAt: z.string().nullable(),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() })),
  })
  .meta({ id: 'FaultRepair' });
export type FaultRepairDto = z.input<typeof faultRepairSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

async function documentRefOf(db: Db, id: string | null) {
  if (!id) return null;
  const document = await loadDocument(db, id);
  return { id, status: document.status, currentVersion: document.currentVersion };
}

export async function loadFaultRepair(db: Db, caseNumber: string, withDetails = true): Promise<FaultRepairDto> {
  const row = await db
    .selectFrom('fault_repairs as f')
    .innerJoin('cases as k', 'k.id', 'f.case_id')
    .innerJoin('customers as c', 'c.id', 'f.customer_id')
    .innerJoin('devices as d', 'd.id', 'f.device_id')
    .leftJoin('users as e', 'e.id', 'f.engineer_user_id')
    .selectAll('f')
    .select(['k.workflow_id', 'c.name as customer_name', 'd.serial as device_serial', 'e.name as engineer_name'])
    .where('f.case_number', '=', caseNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('fault repair', caseNumber);
  const [events, plan, serviceReport] = await Promise.all([
    withDetails ? db.selectFrom('audit_events').selectAll().where('case_id', '=', row.case_id).orderBy('occurred_at').orderBy('id').execute() : Promise.resolve([]),
    documentRefOf(db, row.plan_document_id),
    documentRefOf(db, row.report_document_id),
  ]);
  return {
    caseNumber: row.case_number,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    status: row.status as FaultRepairDto['status'],
    customerId: row.customer_id,
    customerName: row.customer_name,
    contactId: row.contact_id,
    deviceSerial: row.device_serial,
    siteId: row.site_id,
    symptoms: row.symptoms,
    actionsTaken: row.actions_taken,
    suspectedCause: row.suspected_cause,
    severity: row.severity,
    reportedAt: iso(row.reported_at)!,
    registered: { by: row.registered_by, role: row.registered_by_role },
    targets: ((row.sla_targets ?? []) as SlaTarget[]).map((t) => ({ ...t })),
    diagnosis: row.diagnosis_outcome ? { outcome: row.diagnosis_outcome, findings: row.diagnosis_findings } : null,
    plan,
    highRiskOperations: row.high_risk_operations ?? [],
    serviceReport,
    engineer: row.engineer_user_id ? { userId: row.engineer_user_id, name: row.engineer_name ?? '' } : null,
    appointmentAt: iso(row.appointment_at),
    arrivedAt: iso(row.arrived_at),
    workStartedAt: iso(row.work_started_at),
    maintenanceWindowEndsAt: iso(row.window_ends_at),
    windowOverrunAt: iso(row.window_overrun_at),
    workFinishedAt: iso(row.work_finished_at),
    result: row.result,
    resultNote: row.result_note,
    restoredAt: iso(row.restored_at),
    timeline: events.map((event) => ({ at: iso(event.occurred_at)!, actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}
