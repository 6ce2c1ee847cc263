// The read model of a fault repair: its API shape and how it is read from the database.
import { z } from 'zod';
import type { Db } from '../../db';
import { FAULT_REPAIR_STATUSES, FAULT_SEVERITIES, SLA_TARGET_NAMES, WRITE_UP_STATES, type FaultReportContent, type SlaTarget } from '../../workflows/fault-repair/definitions';
import { SIGN_OFF_STATUSES, SIGN_OFF_STEPS } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import { loadDocument } from '../sign-off/read-model';

const faultReportContentSchema = z.object({
  reportedAt: z.string(),
  remoteSupportAt: z.string().nullable(),
  onSiteAt: z.string().nullable(),
  restoredAt: z.string(),
  engineers: z.array(z.string()),
  customerEngineers: z.array(z.string()),
  symptomsAndImpact: z.string(),
  resolutionProcess: z.string(),
  rootCause: z.string(),
  solution: z.string(),
  preventionAdvice: z.string(),
});

const documentRef = z.object({ id: z.uuid(), status: z.enum(SIGN_OFF_STATUSES), currentVersion: z.number().int(), waitingFor: z.enum(SIGN_OFF_STEPS).nullable() }).nullable();

/** Who a case waits for, by role (the customer acts through links). */
export const WAITING_FOR = ['engineer', 'manager', 'service_desk', 'customer'] as const;
export type WaitingFor = (typeof WAITING_FOR)[number];

export const faultRepairSchema = z
  .object({
    caseNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(FAULT_REPAIR_STATUSES),
    waitingFor: z.array(z.enum(WAITING_FOR)).meta({ description: 'Who the case waits for now (several during the follow-up); empty once closed' }),
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
    faultReport: z
      .object({
        dueAt: z.string().nullable().meta({ description: '24 h after restoration; null until restored' }),
        chasedAt: z.string().nullable().meta({ description: 'When the engineer was chased (2 h before the deadline)' }),
        missed: z.boolean().meta({ description: 'The deadline passed without the report (the managers were told)' }),
        missedAt: z.string().nullable(),
        submittedAt: z.string().nullable(),
        submittedBy: z.string().nullable(),
        late: z.boolean(),
        content: faultReportContentSchema.nullable(),
      })
      .meta({ id: 'FaultReport' }),
    followUp: z.object({
      dueAt: z.string().nullable().meta({ description: '2 days after the service report was signed' }),
      chasedAt: z.string().nullable().meta({ description: 'When the desk was chased (at the deadline)' }),
      escalatedAt: z.string().nullable().meta({ description: 'When the managers were told (1 day after the deadline)' }),
      call: z.object({ at: z.string(), by: z.string().nullable(), reached: z.boolean(), notes: z.string().nullable() }).nullable(),
      survey: z.object({ sentAt: z.string().nullable(), score: z.number().int().nullable(), comment: z.string().nullable(), answeredAt: z.string().nullable() }),
    }),
    writeUp: z.object({
      dueAt: z.string().nullable().meta({ description: 'A week after restoration' }),
      state: z.enum(WRITE_UP_STATES).nullable().meta({ description: 'null until restoration' }),
      version: z.number().int(),
      summary: z.string().nullable(),
      lessons: z.string().nullable(),
      submittedAt: z.string().nullable(),
      reviewComment: z.string().nullable(),
      reviewedAt: z.string().nullable(),
      chasedAt: z.string().nullable().meta({ description: 'When the engineer was chased (at the deadline, the write-up not in)' }),
      escalatedAt: z.string().nullable().meta({ description: 'When the managers were told (a day after the deadline, still not in)' }),
    }),
    closedAt: z.string().nullable(),
    incidents: z
      .array(z.object({ caseNumber: z.string(), origin: z.enum(['fault_repair_escalation', 'window_overrun']), status: z.string() }))
      .meta({ description: 'Emergency incidents this case started: its escalation (the incident took the case over) or a maintenance-window overrun that affected users' }),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() })),
  })
  .meta({ id: 'FaultRepair' });
export type FaultRepairDto = z.input<typeof faultRepairSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

async function documentRefOf(db: Db, id: string | null) {
  if (!id) return null;
  const document = await loadDocument(db, id);
  return { id, status: document.status, currentVersion: document.currentVersion, waitingFor: document.waitingFor };
}

type DocumentState = { status: string; waitingFor: string | null } | null;

/** Who a case in `status` waits for: its documents' steps where a document is in sign-off. */
export function waitingForOf(
  status: FaultRepairDto['status'],
  facts: { plan: DocumentState; serviceReport: DocumentState; faultReportIn: boolean; called: boolean; writeUpState: string | null },
): WaitingFor[] {
  const ofDocument = (document: DocumentState): WaitingFor[] => {
    if (!document || document.status === 'awaiting_version' || document.status === 'returned') return ['engineer'];
    if (document.status !== 'in_review') return [];
    return [document.waitingFor === 'customer_signature' ? 'customer' : 'manager'];
  };
  switch (status) {
    case 'diagnosis':
    case 'dispatched':
    case 'on_site':
    case 'in_progress':
      return ['engineer'];
    case 'planning':
      return ofDocument(facts.plan);
    case 'reporting':
      return ofDocument(facts.serviceReport);
    case 'awaiting_dispatch':
    case 'escalated':
      return ['manager'];
    case 'follow_up': {
      const waiting = new Set<WaitingFor>();
      if (!facts.faultReportIn || facts.writeUpState === 'awaiting' || facts.writeUpState === 'returned') waiting.add('engineer');
      if (!facts.called) waiting.add('service_desk');
      if (facts.writeUpState === 'submitted') waiting.add('manager');
      return [...waiting];
    }
    default:
      return [];
  }
}

function faultReportContentOf(value: unknown): FaultReportContent | null {
  if (!value || typeof value !== 'object') return null;
  const content = value as FaultReportContent;
  return content;
}

/** A device's history (append-only): the fault, repair and parts of each archived case, oldest first. */
export const deviceHistorySchema = z
  .object({
    deviceId: z.uuid(),
    serial: z.string(),
    entries: z.array(z.object({ caseId: z.uuid(), caseNumber: z.string().nullable(), kind: z.enum(['fault', 'repair', 'parts']), summary: z.string(), occurredAt: z.string(), recordedAt: z.string() })),
  })
  .meta({ id: 'DeviceHistory' });

export async function loadDeviceHistory(db: Db, deviceId: string): Promise<z.input<typeof deviceHistorySchema>> {
  const device = await db.selectFrom('devices').select(['id', 'serial']).where('id', '=', deviceId).executeTakeFirst();
  if (!device) throw ApiError.notFound('device', deviceId);
  const rows = await db
    .selectFrom('device_history as h')
    .innerJoin('cases as k', 'k.id', 'h.case_id')
    .select(['h.case_id', 'k.number as case_number', 'h.kind', 'h.summary', 'h.occurred_at', 'h.recorded_at'])
    .where('h.device_id', '=', deviceId)
    .orderBy('h.occurred_at')
    .orderBy('h.id')
    .execute();
  return {
    deviceId: device.id,
    serial: device.serial,
    entries: rows.map((row) => ({ caseId: row.case_id, caseNumber: row.case_number, kind: row.kind, summary: row.summary, occurredAt: iso(row.occurred_at)!, recordedAt: iso(row.recorded_at)! })),
  };
}

export async function loadFaultRepair(db: Db, caseNumber: string, withDetails = true): Promise<FaultRepairDto> {
  const row = await db
    .selectFrom('fault_repairs as f')
    .innerJoin('cases as k', 'k.id', 'f.case_id')
    .innerJoin('customers as c', 'c.id', 'f.customer_id')
    .innerJoin('devices as d', 'd.id', 'f.device_id')
    .leftJoin('users as e', 'e.id', 'f.engineer_user_id')
    .selectAll('f')
    .select(['k.workflow_id', 'k.closed_at', 'c.name as customer_name', 'd.serial as device_serial', 'e.name as engineer_name'])
    .where('f.case_number', '=', caseNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('fault repair', caseNumber);
  const [events, plan, serviceReport, writeUpAlerts, incidents] = await Promise.all([
    withDetails ? db.selectFrom('audit_events').selectAll().where('case_id', '=', row.case_id).orderBy('occurred_at').orderBy('id').execute() : Promise.resolve([]),
    documentRefOf(db, row.plan_document_id),
    documentRefOf(db, row.report_document_id),
    // The write-up's alerts are recorded in the audit trail only.
    db.selectFrom('audit_events').select(['action', 'occurred_at']).where('case_id', '=', row.case_id).where('action', 'in', ['fault_repair.write_up_chase', 'fault_repair.write_up_overdue']).execute(),
    db.selectFrom('incidents').select(['case_number', 'origin', 'status']).where('origin_case_id', '=', row.case_id).orderBy('case_number').execute(),
  ]);
  const alertAt = (action: string) => iso(writeUpAlerts.find((event) => event.action === action)?.occurred_at ?? null);
  // A case handed over to its incident (closed as escalated) waits for no one here.
  const waitingFor = row.closed_at !== null ? [] : waitingForOf(row.status as FaultRepairDto['status'], {
    plan,
    serviceReport,
    faultReportIn: row.fault_report_submitted_at !== null,
    called: row.follow_up_called_at !== null,
    writeUpState: row.write_up_state,
  });
  return {
    caseNumber: row.case_number,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    status: row.status as FaultRepairDto['status'],
    waitingFor,
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
    faultReport: {
      dueAt: iso(row.fault_report_due_at),
      chasedAt: iso(row.fault_report_chased_at),
      missed: row.fault_report_missed_at !== null,
      missedAt: iso(row.fault_report_missed_at),
      submittedAt: iso(row.fault_report_submitted_at),
      submittedBy: row.fault_report_submitted_by,
      late: row.fault_report_submitted_at !== null && row.fault_report_due_at !== null && row.fault_report_submitted_at > row.fault_report_due_at,
      content: faultReportContentOf(row.fault_report),
    },
    followUp: {
      dueAt: iso(row.follow_up_due_at),
      chasedAt: iso(row.follow_up_chased_at),
      escalatedAt: iso(row.follow_up_escalated_at),
      call: row.follow_up_called_at ? { at: iso(row.follow_up_called_at)!, by: row.follow_up_called_by, reached: row.follow_up_reached ?? false, notes: row.follow_up_notes } : null,
      survey: { sentAt: iso(row.survey_sent_at), score: row.survey_score, comment: row.survey_comment, answeredAt: iso(row.survey_answered_at) },
    },
    writeUp: {
      dueAt: iso(row.write_up_due_at),
      state: row.write_up_state,
      version: row.write_up_version,
      summary: row.write_up_summary,
      lessons: row.write_up_lessons,
      submittedAt: iso(row.write_up_submitted_at),
      reviewComment: row.write_up_review_comment,
      reviewedAt: iso(row.write_up_reviewed_at),
      chasedAt: alertAt('fault_repair.write_up_chase'),
      escalatedAt: alertAt('fault_repair.write_up_overdue'),
    },
    closedAt: iso(row.closed_at),
    incidents: incidents.map((incident) => ({ caseNumber: incident.case_number, origin: incident.origin as 'fault_repair_escalation' | 'window_overrun', status: incident.status })),
    timeline: events.map((event) => ({ at: iso(event.occurred_at)!, actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}
