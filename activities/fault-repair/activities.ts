import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { loadBusinessCalendar } from '../../db/repositories/calendar';
import { caseStatusUpdate, nextCaseNumber } from '../../db/repositories/cases';
import { insertIncidentCase } from '../../db/repositories/incidents';
import { documentReopeningInsert, insertDocument } from '../../db/repositories/documents';
import type { Database } from '../../db/schema';
import {
  FAULT_REPAIR_FINAL_STATUSES,
  FAULT_REPORT_CHASE_BEFORE_MS,
  FOLLOW_UP_DAYS,
  TARGET_OF_MILESTONE,
  WARNING_SHARE,
  minuteOfDayText,
  WRITE_UP_DAYS,
  type DispatchInput,
  type FaultReportContent,
  type FollowUpDeadlines,
  type MaintenanceWindow,
  type FaultRepairStatus,
  type Milestone,
  type SlaTarget,
  type SlaTargetName,
} from '../../workflows/fault-repair/definitions';
import { highRiskOperationsIn } from '../../workflows/rules/high-risk';
import { shanghaiDate } from '../../workflows/rules/time';
import { dueAt, faultReportDueAt, isSlaClass, responseTargets, shareOfPromiseElapsedAt, type NamedDeadline } from '../../workflows/rules/sla';
import type { ActorStamp } from '../../workflows/shared/definitions';
import type { DocumentKind, SignOffStep } from '../../workflows/sign-off/definitions';
import { createCaseStepRunner, stepAuditInsert, type StepAudit, type StepEmail, type StepWrite } from '../shared/case-step';
import type { SignedLinks } from '../shared/signed-links';

/** The customer's satisfaction survey link (api/fault-repair/link-actions.ts). */
export const SURVEY_ACTION = 'fault-repair.survey';
export const SURVEY_LINK_TTL_HOURS = 24 * 30;
const DAY_MS = 24 * 3_600_000;

/** The stage-2 deadline alerts: who is told and what is recorded. */
export type FollowUpAlertKind = 'fault_report_chase' | 'fault_report_missed' | 'follow_up_due' | 'follow_up_overdue' | 'write_up_chase' | 'write_up_overdue';
/** The column each alert is recorded in; the write-up's alerts are in the audit trail only. */
const ALERT_COLUMN: Partial<Record<FollowUpAlertKind, 'fault_report_chased_at' | 'fault_report_missed_at' | 'follow_up_chased_at' | 'follow_up_escalated_at'>> = {
  fault_report_chase: 'fault_report_chased_at',
  fault_report_missed: 'fault_report_missed_at',
  follow_up_due: 'follow_up_chased_at',
  follow_up_overdue: 'follow_up_escalated_at',
};
/** The alerts for the managers; the chases go to the case's engineer (or the desk when none). */
const MANAGER_ALERTS: readonly FollowUpAlertKind[] = ['fault_report_missed', 'follow_up_overdue', 'write_up_overdue'];
const ENGINEER_ALERTS: readonly FollowUpAlertKind[] = ['fault_report_chase', 'write_up_chase'];

export interface FaultRepairActivityDependencies {
  db: Db;
  links: SignedLinks;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
  /** The organiser of the appointment invitations (MAIL_FROM). */
  sender?: { name: string; email: string } | undefined;
}

async function faultRepairRow(executor: DbExecutor, caseId: string) {
  const row = await executor
    .selectFrom('fault_repairs as f')
    .innerJoin('customers as c', 'c.id', 'f.customer_id')
    .innerJoin('contacts as k', 'k.id', 'f.contact_id')
    .innerJoin('devices as d', 'd.id', 'f.device_id')
    .leftJoin('sites as s', 's.id', 'f.site_id')
    .leftJoin('users as e', 'e.id', 'f.engineer_user_id')
    .selectAll('f')
    .select([
      'c.name as customer_name',
      'c.sla_class',
      'c.maintenance_window_start_minute',
      'c.maintenance_window_end_minute',
      'k.email as contact_email',
      'k.locale as contact_locale',
      'd.serial as device_serial',
      's.distance_km',
      's.name as site_name',
      's.address as site_address',
      's.city as site_city',
      'e.email as engineer_email',
      'e.name as engineer_name',
    ])
    .where('f.case_id', '=', caseId)
    .executeTakeFirst();
  // Retryable: a case is committed before its workflow starts, but be patient with a lagging replica.
  if (!row) throw ApplicationFailure.retryable(`no fault repair for case ${caseId} (yet)`, 'FaultRepairNotFound');
  return row;
}
type FaultRepairRow = Awaited<ReturnType<typeof faultRepairRow>>;

/** The case's customer's maintenance window (the columns default to 00:00-05:00). */
function maintenanceWindowOf(row: FaultRepairRow): MaintenanceWindow {
  return { startMinute: row.maintenance_window_start_minute, endMinute: row.maintenance_window_end_minute };
}

/** How long an appointment is booked for in the customer's calendar. */
const APPOINTMENT_DURATION_MS = 2 * 60 * 60 * 1000;

const MILESTONE_COLUMN: Partial<Record<Milestone, 'arrived_at' | 'restored_at'>> = { arrived_on_site: 'arrived_at', restored: 'restored_at' };

function statusWrites(trx: DbExecutor, caseId: string, status: FaultRepairStatus, at: Date, changes: Updateable<Database['fault_repairs']> = {}): StepWrite[] {
  return [
    trx
      .updateTable('fault_repairs')
      .set({ ...changes, status, updated_at: at })
      .where('case_id', '=', caseId),
    caseStatusUpdate(trx, caseId, status, at, FAULT_REPAIR_FINAL_STATUSES.includes(status)),
  ];
}

/** `warnAtMs`: when the target's time is counted in service hours (5x8), its 75 % in those hours; otherwise 75 % of the wall time. */
function targetOf(name: SlaTargetName, deadline: NamedDeadline | { dueAt: string | null; rule: { en: string; zh: string } }, startMs: number, warnAtMs?: number): SlaTarget {
  const dueMs = deadline.dueAt === null ? null : Date.parse(deadline.dueAt);
  return {
    name,
    dueAt: dueMs === null ? null : new Date(dueMs).toISOString(),
    warnAt: dueMs === null ? null : new Date(warnAtMs ?? startMs + Math.round((dueMs - startMs) * WARNING_SHARE)).toISOString(),
    rule: deadline.rule,
    state: dueMs === null ? 'not_applicable' : 'pending',
    warnedAt: null,
    breachedAt: null,
    metAt: null,
    marginMinutes: null,
  };
}

async function usersWithRole(trx: DbExecutor, roles: ('manager' | 'service_desk')[]) {
  return trx.selectFrom('users').select(['id', 'email']).where('role', 'in', roles).where('disabled_at', 'is', null).orderBy('email').execute();
}

/** The recorded fault report (jsonb), when there is one. */
function faultReportOf(value: unknown): Partial<FaultReportContent> | null {
  if (!value || typeof value !== 'object') return null;
  const report: Partial<FaultReportContent> = value;
  return report;
}

interface PartUsed {
  productCode: string;
  quantity: number;
  serial: string | null;
}

/** The parts of a case: the signed plan's, and those the latest service report names (`parts` or `partsUsed`). */
async function partsOfCase(trx: DbExecutor, row: FaultRepairRow): Promise<PartUsed[]> {
  const contents: unknown[] = [];
  if (row.plan_document_id && row.plan_signed_version !== null) {
    const plan = await trx.selectFrom('document_versions').select('content').where('document_id', '=', row.plan_document_id).where('version', '=', row.plan_signed_version).executeTakeFirst();
    if (plan) contents.push(plan.content);
  }
  if (row.report_document_id) {
    const report = await trx.selectFrom('document_versions').select('content').where('document_id', '=', row.report_document_id).orderBy('version', 'desc').limit(1).executeTakeFirst();
    if (report) contents.push(report.content);
  }
  const parts = new Map<string, PartUsed>();
  for (const content of contents) {
    const record = (content ?? {}) as { parts?: unknown; partsUsed?: unknown };
    const list = Array.isArray(record.partsUsed) ? record.partsUsed : Array.isArray(record.parts) ? record.parts : [];
    for (const item of list as { productCode?: unknown; quantity?: unknown; serial?: unknown }[]) {
      if (typeof item?.productCode !== 'string') continue;
      const part = { productCode: item.productCode, quantity: typeof item.quantity === 'number' ? item.quantity : 1, serial: typeof item.serial === 'string' ? item.serial : null };
      parts.set(`${part.productCode}/${part.serial ?? ''}`, part); // the service report's account of a part wins over the plan's
    }
  }
  return [...parts.values()];
}

export function createFaultRepairActivities({ db, links, emailsQueued, logger, sender }: FaultRepairActivityDependencies) {
  const caseStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'fault-repair',
      load: (trx, caseId) => faultRepairRow(trx, caseId),
      caseId: (row) => row.case_id,
      caseNumber: (row) => row.case_number,
      contact: (row) => ({ email: row.contact_email, locale: row.contact_locale }),
    },
  );

  const audit = (trx: DbExecutor, row: FaultRepairRow, key: string, entry: StepAudit) => stepAuditInsert(trx, { caseId: row.case_id, caseNumber: row.case_number }, key, entry);

  const targetsJson = (targets: readonly SlaTarget[]) => JSON.stringify(targets);

  const documentInsert = (trx: DbExecutor, row: FaultRepairRow, document: { id: string; kind: DocumentKind; steps: SignOffStep[] }, createdBy: string): StepWrite => ({
    execute: () =>
      insertDocument(trx, {
        id: document.id,
        caseId: row.case_id,
        kind: document.kind,
        title: document.kind === 'repair_plan' ? `Repair plan ${row.case_number}` : `Service report ${row.case_number}`,
        steps: document.steps,
        contactId: row.contact_id,
        createdBy,
      }),
  });

  return {
    /**
     * Computes the SLA targets once, from the calendar in force and the customer's SLA class, records
     * them and emails the customer the acknowledgement. Targets already recorded are returned as they
     * are: a deadline promised is never recomputed.
     */
    async computeFaultRepairTargets(input: { caseId: string; at: string }): Promise<SlaTarget[]> {
      const calendar = await loadBusinessCalendar(db);
      return caseStep(input.caseId, { step: 'acknowledged', actorRole: 'system' }, async (row, trx) => {
        if (row.sla_targets) return { writes: [], result: row.sla_targets as SlaTarget[] };
        const start = row.reported_at.toISOString();
        const startMs = row.reported_at.getTime();
        const severityTargets = responseTargets(row.severity, row.distance_km === null ? 'city' : row.distance_km, start);
        const slaClass = isSlaClass(row.sla_class) ? row.sla_class : '7x24';
        const restoration = dueAt(calendar, start, slaClass);
        const targets: SlaTarget[] = [
          targetOf('phone_response', severityTargets.phoneResponse, startMs),
          targetOf('temporary_solution', severityTargets.temporarySolution, startMs),
          targetOf('on_site', severityTargets.onSite, startMs),
          targetOf('restoration', { dueAt: restoration.dueAt, rule: restoration.rule }, startMs, Date.parse(shareOfPromiseElapsedAt(calendar, start, slaClass, WARNING_SHARE))),
        ];
        return {
          writes: [
            trx.updateTable('fault_repairs').set({ sla_targets: targetsJson(targets), updated_at: new Date(input.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, 'targets', {
              at: input.at,
              actor: 'system',
              role: 'system',
              action: 'fault_repair.targets_computed',
              data: { targets, slaClass, provisional: restoration.provisional, missingYears: restoration.missingYears },
            }),
          ],
          emails: [
            {
              key: 'acknowledgement',
              content: {
                template: 'fault_repair_acknowledgement',
                params: { caseNumber: row.case_number, customerName: row.customer_name, deviceSerial: row.device_serial, severity: row.severity, targets: targets.map((t) => ({ name: t.name, dueAt: t.dueAt })) },
              },
            },
          ],
          result: targets,
        };
      });
    },

    /** A milestone (first response, temporary solution) with the target it met or missed. */
    async recordFaultRepairMilestone(input: { caseId: string; stamp: ActorStamp; milestone: Milestone; occurredAt: string; note: string | null; targets: SlaTarget[] }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: `milestone ${input.milestone}`, actorRole: stamp.role, key: `milestone/${input.milestone}` }, async (row, trx) => {
        const column = MILESTONE_COLUMN[input.milestone];
        return {
          writes: [
            trx
              .updateTable('fault_repairs')
              .set({ sla_targets: targetsJson(input.targets), updated_at: new Date(stamp.at), ...(column ? { [column]: new Date(input.occurredAt) } : {}) })
              .where('case_id', '=', row.case_id),
            audit(trx, row, `milestone/${input.milestone}`, {
              ...stamp,
              action: `fault_repair.${input.milestone}`,
              comment: input.note,
              data: { occurredAt: input.occurredAt, target: input.targets.find((t) => t.name === TARGET_OF_MILESTONE[input.milestone]) ?? null },
            }),
          ],
          result: undefined,
        };
      });
    },

    /** The remote diagnosis: solved remotely (restored; the service report is created) or a repair plan is needed (the plan is created). */
    async recordFaultRepairDiagnosis(input: {
      caseId: string;
      stamp: ActorStamp;
      outcome: 'solved_remotely' | 'needs_plan';
      findings: string;
      document: { id: string; kind: DocumentKind; steps: SignOffStep[] };
      restoredAt: string | null;
      targets: SlaTarget[];
      /** Solved remotely: the diagnosing engineer becomes the case's engineer. */
      engineerUserId?: string | null;
    }): Promise<void> {
      const { stamp } = input;
      const solved = input.outcome === 'solved_remotely';
      await caseStep(input.caseId, { step: `diagnosis ${input.outcome}`, actorRole: stamp.role, key: 'diagnosis' }, async (row, trx) => ({
        writes: [
          documentInsert(trx, row, input.document, stamp.actor),
          ...statusWrites(trx, row.case_id, solved ? 'reporting' : 'planning', new Date(stamp.at), {
            diagnosis_outcome: input.outcome,
            diagnosis_findings: input.findings,
            sla_targets: targetsJson(input.targets),
            ...(solved
              ? {
                  report_document_id: input.document.id,
                  result: 'solved_remotely' as const,
                  result_note: input.findings,
                  restored_at: input.restoredAt ? new Date(input.restoredAt) : null,
                  ...(input.engineerUserId ? { engineer_user_id: input.engineerUserId } : {}),
                }
              : { plan_document_id: input.document.id }),
          }),
          audit(trx, row, 'diagnosis', { ...stamp, action: `fault_repair.diagnosis_${input.outcome}`, comment: input.findings, data: { documentId: input.document.id, restoredAt: input.restoredAt } }),
        ],
        result: undefined,
      }));
    },

    /** Both sides signed the plan: the signed version's high-risk operations decide whether work waits for a maintenance window. */
    async recordFaultRepairPlanSigned(input: { caseId: string; documentId: string; version: number; at: string }): Promise<{ highRiskOperations: string[]; maintenanceWindow?: MaintenanceWindow }> {
      return caseStep(input.caseId, { step: 'plan signed', actorRole: 'system', key: 'plan-signed' }, async (row, trx) => {
        const version = await trx.selectFrom('document_versions').select('content').where('document_id', '=', input.documentId).where('version', '=', input.version).executeTakeFirst();
        const content = (version?.content ?? {}) as { highRiskOperations?: unknown };
        const highRiskOperations = highRiskOperationsIn(content);
        return {
          writes: [
            ...statusWrites(trx, row.case_id, 'awaiting_dispatch', new Date(input.at), { plan_signed_version: input.version, high_risk_operations: highRiskOperations }),
            audit(trx, row, 'plan-signed', { at: input.at, actor: 'system', role: 'system', action: 'fault_repair.plan_signed', data: { documentId: input.documentId, version: input.version, highRiskOperations } }),
          ],
          result: { highRiskOperations, maintenanceWindow: maintenanceWindowOf(row) },
        };
      });
    },

    async recordFaultRepairDispatch(input: { caseId: string; dispatch: DispatchInput }): Promise<void> {
      const { dispatch } = input;
      await caseStep(input.caseId, { step: 'dispatched', actorRole: dispatch.role, key: 'dispatch' }, async (row, trx) => ({
        writes: [
          ...statusWrites(trx, row.case_id, 'dispatched', new Date(dispatch.at), { engineer_user_id: dispatch.engineerUserId, appointment_at: new Date(dispatch.appointmentAt) }),
          audit(trx, row, 'dispatch', { ...dispatch, action: 'fault_repair.dispatched', data: { engineerUserId: dispatch.engineerUserId, engineerName: dispatch.engineerName, appointmentAt: dispatch.appointmentAt } }),
        ],
        emails: [
          {
            key: 'appointment',
            content: { template: 'fault_repair_appointment', params: { caseNumber: row.case_number, customerName: row.customer_name, engineerName: dispatch.engineerName, appointmentAt: dispatch.appointmentAt } },
            // Into the customer's calendar; a later dispatch of the same case updates the same entry.
            calendarInvite: {
              ...(sender ? { organizer: sender } : {}),
              uid: `${row.case_number}/appointment@fieldops`,
              sequence: Math.floor(Date.parse(dispatch.at) / 1000),
              start: dispatch.appointmentAt,
              end: new Date(Date.parse(dispatch.appointmentAt) + APPOINTMENT_DURATION_MS).toISOString(),
              summary: `${row.case_number}: engineer visit (${dispatch.engineerName})`,
              description: `${row.case_number} ${row.device_serial}: ${row.symptoms}`,
              location: [row.site_name, row.site_address, row.site_city].filter(Boolean).join(', ') || null,
            },
          },
        ],
        result: undefined,
      }));
    },

    /**
     * The desk books (or re-books) the visit: the customer gets the appointment again, and its
     * invitation updates the same calendar entry (same UID, a higher SEQUENCE). `booking`: 2, 3, ...
     * (the dispatch was the first).
     */
    async recordFaultRepairAppointment(input: { caseId: string; stamp: ActorStamp; appointmentAt: string; booking: number }): Promise<void> {
      const { stamp } = input;
      const key = `appointment/${input.booking}`;
      await caseStep(input.caseId, { step: `appointment booked (${input.booking})`, actorRole: stamp.role, key }, async (row, trx) => {
        const previous = row.appointment_at ? row.appointment_at.toISOString() : null;
        const engineerName = row.engineer_name ?? '';
        return {
          writes: [
            trx.updateTable('fault_repairs').set({ appointment_at: new Date(input.appointmentAt), updated_at: new Date(stamp.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, key, { ...stamp, action: 'fault_repair.appointment_booked', data: { appointmentAt: input.appointmentAt, previousAppointmentAt: previous, booking: input.booking } }),
          ],
          emails: [
            {
              key,
              content: { template: 'fault_repair_appointment', params: { caseNumber: row.case_number, customerName: row.customer_name, engineerName, appointmentAt: input.appointmentAt } },
              calendarInvite: {
                ...(sender ? { organizer: sender } : {}),
                uid: `${row.case_number}/appointment@fieldops`,
                // The dispatch's sequence was its second; each later booking is later and counts on top, so it always increases.
                sequence: Math.floor(Date.parse(stamp.at) / 1000) + input.booking - 1,
                start: input.appointmentAt,
                end: new Date(Date.parse(input.appointmentAt) + APPOINTMENT_DURATION_MS).toISOString(),
                summary: `${row.case_number}: engineer visit (${engineerName})`,
                description: `${row.case_number} ${row.device_serial}: ${row.symptoms}`,
                location: [row.site_name, row.site_address, row.site_city].filter(Boolean).join(', ') || null,
              },
            },
          ],
          result: undefined,
        };
      });
    },

    /** On site, before work: the engineer reopens the signed plan (`revision`: 1, 2, ...); the case waits for a new signed version. */
    async recordFaultRepairPlanReopened(input: { caseId: string; stamp: ActorStamp; reason: string; documentId: string; signedVersion: number; revision: number }): Promise<void> {
      const { stamp } = input;
      const key = `plan-reopened/${input.revision}`;
      await caseStep(input.caseId, { step: `plan reopened (${input.revision})`, actorRole: stamp.role, key }, async (row, trx) => ({
        writes: [
          ...statusWrites(trx, row.case_id, 'planning', new Date(stamp.at)),
          audit(trx, row, key, { ...stamp, action: 'fault_repair.plan_reopened', comment: input.reason, data: { documentId: input.documentId, signedVersion: input.signedVersion, revision: input.revision } }),
          documentReopeningInsert(trx, { documentId: input.documentId, signedVersion: input.signedVersion, reason: input.reason, by: stamp.actor, role: stamp.role, at: stamp.at }),
        ],
        result: undefined,
      }));
    },

    /** The revised plan signed by both sides: back on site, with the new version's high-risk operations. */
    async recordFaultRepairRevisedPlanSigned(input: { caseId: string; documentId: string; version: number; revision: number; at: string }): Promise<{ highRiskOperations: string[]; maintenanceWindow?: MaintenanceWindow }> {
      const key = `plan-signed/${input.revision}`;
      return caseStep(input.caseId, { step: `revised plan signed (${input.revision})`, actorRole: 'system', key }, async (row, trx) => {
        const version = await trx.selectFrom('document_versions').select('content').where('document_id', '=', input.documentId).where('version', '=', input.version).executeTakeFirst();
        const content = (version?.content ?? {}) as { highRiskOperations?: unknown };
        const highRiskOperations = highRiskOperationsIn(content);
        return {
          writes: [
            ...statusWrites(trx, row.case_id, 'on_site', new Date(input.at), { plan_signed_version: input.version, high_risk_operations: highRiskOperations }),
            audit(trx, row, key, {
              at: input.at,
              actor: 'system',
              role: 'system',
              action: 'fault_repair.revised_plan_signed',
              data: { documentId: input.documentId, version: input.version, revision: input.revision, highRiskOperations },
            }),
          ],
          result: { highRiskOperations, maintenanceWindow: maintenanceWindowOf(row) },
        };
      });
    },

    async recordFaultRepairArrival(input: { caseId: string; stamp: ActorStamp; arrivedAt: string; targets: SlaTarget[] }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'arrived on site', actorRole: stamp.role, key: 'arrival' }, async (row, trx) => ({
        writes: [
          ...statusWrites(trx, row.case_id, 'on_site', new Date(stamp.at), { arrived_at: new Date(input.arrivedAt), sla_targets: targetsJson(input.targets) }),
          audit(trx, row, 'arrival', { ...stamp, action: 'fault_repair.arrived_on_site', data: { arrivedAt: input.arrivedAt, target: input.targets.find((t) => t.name === 'on_site') } }),
        ],
        result: undefined,
      }));
    },

    async recordFaultRepairWorkStarted(input: { caseId: string; stamp: ActorStamp; startedAt: string; windowEndsAt: string | null }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'work started', actorRole: stamp.role, key: 'work-started' }, async (row, trx) => ({
        writes: [
          ...statusWrites(trx, row.case_id, 'in_progress', new Date(stamp.at), { work_started_at: new Date(input.startedAt), window_ends_at: input.windowEndsAt ? new Date(input.windowEndsAt) : null }),
          audit(trx, row, 'work-started', { ...stamp, action: 'fault_repair.work_started', data: { startedAt: input.startedAt, windowEndsAt: input.windowEndsAt, highRiskOperations: row.high_risk_operations ?? [] } }),
        ],
        result: undefined,
      }));
    },

    /** Fixed: restored, and the service report is created. Not fixed: escalated (stage 2 links it to an incident). */
    async recordFaultRepairWorkFinished(input: {
      caseId: string;
      stamp: ActorStamp;
      fixed: boolean;
      result: string;
      finishedAt: string;
      restoredAt: string | null;
      report: { id: string; kind: DocumentKind; steps: SignOffStep[] } | null;
      targets: SlaTarget[];
    }): Promise<void> {
      const { stamp } = input;
      const at = new Date(stamp.at);
      await caseStep(input.caseId, { step: input.fixed ? 'work finished: fixed' : 'work finished: not fixed', actorRole: stamp.role, key: 'work-finished' }, async (row, trx) => ({
        writes: [
          ...(input.report ? [documentInsert(trx, row, input.report, stamp.actor)] : []),
          ...statusWrites(trx, row.case_id, input.fixed ? 'reporting' : 'escalated', at, {
            work_finished_at: new Date(input.finishedAt),
            result: input.fixed ? 'fixed' : 'not_fixed',
            result_note: input.result,
            sla_targets: targetsJson(input.targets),
            ...(input.fixed ? { restored_at: input.restoredAt ? new Date(input.restoredAt) : null, report_document_id: input.report?.id ?? null } : { escalated_at: at }),
          }),
          audit(trx, row, 'work-finished', { ...stamp, action: input.fixed ? 'fault_repair.restored' : 'fault_repair.escalated', comment: input.result, data: { restoredAt: input.restoredAt, reportDocumentId: input.report?.id ?? null } }),
        ],
        result: undefined,
      }));
    },

    /** High-risk work still running when its maintenance window closed: recorded, and every manager told at once. */
    async recordFaultRepairWindowOverrun(input: { caseId: string; windowEndsAt: string; at: string }): Promise<{ managersNotified: number }> {
      return caseStep(input.caseId, { step: 'window overrun', actorRole: 'system', key: 'window-overrun' }, async (row, trx) => {
        const managers = await usersWithRole(trx, ['manager']);
        return {
          writes: [
            trx.updateTable('fault_repairs').set({ window_overrun_at: new Date(input.at), updated_at: new Date(input.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, 'window-overrun', { at: input.at, actor: 'system', role: 'system', action: 'fault_repair.window_overrun', comment: `high-risk work not finished when the maintenance window closed at ${input.windowEndsAt}`, data: { windowEndsAt: input.windowEndsAt } }),
          ],
          emails: managers.map((manager): StepEmail => ({
            key: `window-overrun/manager/${manager.id}`,
            content: { template: 'fault_repair_window_overrun', params: { caseNumber: row.case_number, customerName: row.customer_name, windowEndsAt: input.windowEndsAt } },
            to: { email: manager.email, locale: 'zh-CN' },
          })),
          result: { managersNotified: managers.length },
        };
      });
    },

    /**
     * A maintenance window opened while a case with a signed high-risk plan waits for work to start:
     * the assigned engineer is reminded (once per window; `windowStart` keys it).
     */
    async recordFaultRepairWindowReminder(input: { caseId: string; windowStart: string; windowEnd: string; at: string }): Promise<{ notified: number }> {
      const key = `window-reminder/${input.windowStart}`;
      return caseStep(input.caseId, { step: 'window reminder', actorRole: 'system', key }, async (row, trx) => {
        const window = maintenanceWindowOf(row);
        const until = minuteOfDayText(window.endMinute);
        return {
          writes: [
            audit(trx, row, key, {
              at: input.at,
              actor: 'system',
              role: 'system',
              action: 'fault_repair.window_reminder',
              comment: `the maintenance window opens now, until ${until}`,
              data: { windowStart: input.windowStart, windowEnd: input.windowEnd, engineerUserId: row.engineer_user_id },
            }),
          ],
          emails:
            row.engineer_user_id && row.engineer_email
              ? [
                  {
                    key: `${key}/engineer/${row.engineer_user_id}`,
                    content: { template: 'fault_repair_window_reminder', params: { caseNumber: row.case_number, customerName: row.customer_name, until } },
                    to: { email: row.engineer_email, locale: 'zh-CN' },
                  },
                ]
              : [],
          result: { notified: row.engineer_email ? 1 : 0 },
        };
      });
    },

    /**
     * An SLA clock: at 75 % the assigned engineer (or the service desk when none is assigned) is warned;
     * at 100 % the managers get a breach notice and the target is recorded missed.
     */
    async recordFaultRepairTargetAlert(input: { caseId: string; kind: 'warning' | 'breach'; target: SlaTargetName; dueAt: string; at: string; targets: SlaTarget[] }): Promise<{ notified: number }> {
      return caseStep(input.caseId, { step: `sla ${input.kind} ${input.target}`, actorRole: 'system', key: `sla/${input.target}/${input.kind}` }, async (row, trx) => {
        const recipients =
          input.kind === 'breach'
            ? await usersWithRole(trx, ['manager'])
            : row.engineer_user_id && row.engineer_email
              ? [{ id: row.engineer_user_id, email: row.engineer_email }]
              : await usersWithRole(trx, ['service_desk']);
        const template = input.kind === 'breach' ? ('fault_repair_target_breached' as const) : ('fault_repair_target_warning' as const);
        return {
          writes: [
            trx.updateTable('fault_repairs').set({ sla_targets: targetsJson(input.targets), updated_at: new Date(input.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, `sla/${input.target}/${input.kind}`, {
              at: input.at,
              actor: 'system',
              role: 'system',
              action: input.kind === 'breach' ? 'fault_repair.target_missed' : 'fault_repair.target_warning',
              data: { target: input.target, dueAt: input.dueAt, notified: recipients.map((r) => r.id) },
            }),
          ],
          emails: recipients.map((recipient): StepEmail => ({
            key: `sla/${input.target}/${input.kind}/${recipient.id}`,
            content: { template, params: { caseNumber: row.case_number, customerName: row.customer_name, target: input.target, dueAt: input.dueAt } },
            to: { email: recipient.email, locale: 'zh-CN' },
          })),
          result: { notified: recipients.length },
        };
      });
    },

    /**
     * The customer signed the service report: the case goes to follow_up. The follow-up call is due
     * 2 days later (computed once, recorded), and the customer gets the follow-up email with a
     * satisfaction survey link.
     */
    async recordFaultRepairReportSigned(input: { caseId: string; documentId: string; version: number; at: string }): Promise<{ followUpDueAt: string }> {
      return caseStep(input.caseId, { step: 'service report signed', actorRole: 'system', key: 'report-signed' }, async (row, trx) => {
        const followUpDueAt = row.follow_up_due_at ? row.follow_up_due_at.toISOString() : new Date(Date.parse(input.at) + FOLLOW_UP_DAYS * DAY_MS).toISOString();
        const link = links.issue({ caseId: row.case_id, action: SURVEY_ACTION, singleUse: false, ttlHours: SURVEY_LINK_TTL_HOURS });
        return {
          writes: [
            ...statusWrites(trx, row.case_id, 'follow_up', new Date(input.at), { follow_up_due_at: followUpDueAt, survey_sent_at: row.survey_sent_at ?? new Date(input.at) }),
            audit(trx, row, 'report-signed', { at: input.at, actor: 'system', role: 'system', action: 'fault_repair.report_signed', data: { documentId: input.documentId, version: input.version, followUpDueAt } }),
          ],
          emails: [
            {
              key: 'follow-up-survey',
              content: { template: 'fault_repair_follow_up_survey', params: { caseNumber: row.case_number, customerName: row.customer_name, deviceSerial: row.device_serial, surveyUrl: link.url } },
            },
          ],
          result: { followUpDueAt },
        };
      });
    },

    /**
     * Restoration recorded: the fault report is due 24 h later [003 2.2.6] (the engineer is chased
     * 2 h before), the write-up a week later. Computed once and recorded; recorded ones are returned as they are.
     */
    async scheduleFaultRepairFollowUp(input: { caseId: string; restoredAt: string; at: string }): Promise<FollowUpDeadlines> {
      return caseStep(input.caseId, { step: 'stage 2 deadlines', actorRole: 'system', key: 'follow-up-deadlines' }, async (row, trx) => {
        if (row.fault_report_due_at && row.fault_report_chase_at && row.write_up_due_at) {
          return {
            writes: [],
            result: { faultReportDueAt: row.fault_report_due_at.toISOString(), faultReportChaseAt: row.fault_report_chase_at.toISOString(), writeUpDueAt: row.write_up_due_at.toISOString() },
          };
        }
        const dueMs = Date.parse(faultReportDueAt(input.restoredAt));
        const deadlines: FollowUpDeadlines = {
          faultReportDueAt: new Date(dueMs).toISOString(),
          faultReportChaseAt: new Date(dueMs - FAULT_REPORT_CHASE_BEFORE_MS).toISOString(),
          writeUpDueAt: new Date(Date.parse(input.restoredAt) + WRITE_UP_DAYS * DAY_MS).toISOString(),
        };
        return {
          writes: [
            trx
              .updateTable('fault_repairs')
              .set({
                fault_report_due_at: deadlines.faultReportDueAt,
                fault_report_chase_at: deadlines.faultReportChaseAt,
                write_up_due_at: deadlines.writeUpDueAt,
                write_up_state: row.write_up_state ?? 'awaiting',
                updated_at: new Date(input.at),
              })
              .where('case_id', '=', row.case_id),
            audit(trx, row, 'follow-up-deadlines', { at: input.at, actor: 'system', role: 'system', action: 'fault_repair.follow_up_deadlines', data: { restoredAt: input.restoredAt, ...deadlines } }),
          ],
          result: deadlines,
        };
      });
    },

    /**
     * A stage-2 deadline: the fault report 2 h before (the engineer, or the desk when none is
     * assigned) and at its deadline (the managers; the case shows it missed); the follow-up call at
     * its deadline (the desk) and a day later (the managers).
     */
    async recordFaultRepairFollowUpAlert(input: { caseId: string; kind: FollowUpAlertKind; dueAt: string; at: string }): Promise<{ notified: number }> {
      const key = `follow-up-alert/${input.kind}`;
      return caseStep(input.caseId, { step: input.kind.replace(/_/g, ' '), actorRole: 'system', key }, async (row, trx) => {
        const recipients = MANAGER_ALERTS.includes(input.kind)
          ? await usersWithRole(trx, ['manager'])
          : ENGINEER_ALERTS.includes(input.kind) && row.engineer_user_id && row.engineer_email
            ? [{ id: row.engineer_user_id, email: row.engineer_email }]
            : await usersWithRole(trx, ['service_desk']);
        const column = ALERT_COLUMN[input.kind];
        return {
          writes: [
            trx
              .updateTable('fault_repairs')
              .set({ ...(column ? { [column]: new Date(input.at) } : {}), updated_at: new Date(input.at) })
              .where('case_id', '=', row.case_id),
            audit(trx, row, key, { at: input.at, actor: 'system', role: 'system', action: `fault_repair.${input.kind}`, data: { dueAt: input.dueAt, notified: recipients.map((r) => r.id) } }),
          ],
          emails: recipients.map((recipient): StepEmail => ({
            key: `${key}/${recipient.id}`,
            content: { template: 'fault_repair_follow_up_alert', params: { caseNumber: row.case_number, customerName: row.customer_name, kind: input.kind, dueAt: input.dueAt } },
            to: { email: recipient.email, locale: 'zh-CN' },
          })),
          result: { notified: recipients.length },
        };
      });
    },

    /** The engineer's fault report (seven items): recorded, late or not, and emailed to the customer. */
    async recordFaultRepairFaultReport(input: { caseId: string; stamp: ActorStamp; report: FaultReportContent; submittedAt: string; dueAt: string | null }): Promise<void> {
      const { stamp } = input;
      const late = input.dueAt !== null && Date.parse(input.submittedAt) > Date.parse(input.dueAt);
      await caseStep(input.caseId, { step: 'fault report submitted', actorRole: stamp.role, key: 'fault-report' }, async (row, trx) => ({
        writes: [
          trx
            .updateTable('fault_repairs')
            .set({ fault_report: JSON.stringify(input.report), fault_report_submitted_at: new Date(input.submittedAt), fault_report_submitted_by: stamp.actor, updated_at: new Date(stamp.at) })
            .where('case_id', '=', row.case_id),
          audit(trx, row, 'fault-report', { ...stamp, action: 'fault_repair.fault_report_submitted', data: { dueAt: input.dueAt, late } }),
        ],
        emails: [
          {
            key: 'fault-report',
            content: { template: 'fault_repair_fault_report', params: { caseNumber: row.case_number, customerName: row.customer_name, deviceSerial: row.device_serial, report: input.report } },
          },
        ],
        result: undefined,
      }));
    },

    /** The desk's follow-up call: reached or not, with its notes. */
    async recordFaultRepairFollowUpCall(input: { caseId: string; stamp: ActorStamp; reached: boolean; notes: string | null; dueAt: string | null }): Promise<void> {
      const { stamp } = input;
      const late = input.dueAt !== null && Date.parse(stamp.at) > Date.parse(input.dueAt);
      await caseStep(input.caseId, { step: 'follow-up call', actorRole: stamp.role, key: 'follow-up-call' }, async (row, trx) => ({
        writes: [
          trx
            .updateTable('fault_repairs')
            .set({ follow_up_called_at: new Date(stamp.at), follow_up_called_by: stamp.actor, follow_up_reached: input.reached, follow_up_notes: input.notes, updated_at: new Date(stamp.at) })
            .where('case_id', '=', row.case_id),
          audit(trx, row, 'follow-up-call', { ...stamp, action: 'fault_repair.follow_up_call', comment: input.notes, data: { reached: input.reached, dueAt: input.dueAt, late } }),
        ],
        result: undefined,
      }));
    },

    /** A version of the engineer's write-up, for the manager's review. */
    async recordFaultRepairWriteUp(input: { caseId: string; stamp: ActorStamp; version: number; summary: string; lessons: string; dueAt: string | null }): Promise<void> {
      const { stamp } = input;
      const key = `write-up/v${input.version}`;
      await caseStep(input.caseId, { step: `write-up v${input.version}`, actorRole: stamp.role, key }, async (row, trx) => ({
        writes: [
          trx
            .updateTable('fault_repairs')
            .set({ write_up_state: 'submitted', write_up_version: input.version, write_up_summary: input.summary, write_up_lessons: input.lessons, write_up_submitted_at: new Date(stamp.at), updated_at: new Date(stamp.at) })
            .where('case_id', '=', row.case_id),
          audit(trx, row, key, { ...stamp, action: 'fault_repair.write_up_submitted', comment: input.summary, data: { version: input.version, lessons: input.lessons, dueAt: input.dueAt } }),
        ],
        result: undefined,
      }));
    },

    /** The manager's review of a write-up version: approved, or sent back with a comment. */
    async recordFaultRepairWriteUpReview(input: { caseId: string; stamp: ActorStamp; version: number; decision: 'approved' | 'returned'; comment: string | null }): Promise<void> {
      const { stamp } = input;
      const key = `write-up/v${input.version}/review`;
      await caseStep(input.caseId, { step: `write-up v${input.version} ${input.decision}`, actorRole: stamp.role, key }, async (row, trx) => ({
        writes: [
          trx
            .updateTable('fault_repairs')
            .set({ write_up_state: input.decision, write_up_review_comment: input.comment, write_up_reviewed_at: new Date(stamp.at), updated_at: new Date(stamp.at) })
            .where('case_id', '=', row.case_id),
          audit(trx, row, key, { ...stamp, action: `fault_repair.write_up_${input.decision}`, comment: input.comment, data: { version: input.version } }),
        ],
        // Sent back: the engineer is told, with the manager's comment.
        emails:
          input.decision === 'returned' && row.engineer_email
            ? [
                {
                  key: `${key}/engineer`,
                  content: { template: 'fault_repair_write_up_returned', params: { caseNumber: row.case_number, customerName: row.customer_name, version: input.version, reviewedBy: stamp.actor, comment: input.comment ?? '' } },
                  to: { email: row.engineer_email, locale: 'zh-CN' },
                },
              ]
            : [],
        result: undefined,
      }));
    },

    /** Everything in: the case is closed (cases.closed_at) and the device's history records the fault, the repair and the parts. */
    async archiveFaultRepair(input: { caseId: string; at: string }): Promise<void> {
      await caseStep(input.caseId, { step: 'archived', actorRole: 'system', key: 'archived' }, async (row, trx) => {
        const parts = await partsOfCase(trx, row);
        const report = faultReportOf(row.fault_report);
        const history: { kind: 'fault' | 'repair' | 'parts'; summary: string; data: Record<string, unknown>; occurredAt: Date }[] = [
          { kind: 'fault', summary: row.symptoms, data: { caseNumber: row.case_number, severity: row.severity, rootCause: report?.rootCause ?? null }, occurredAt: row.reported_at },
          {
            kind: 'repair',
            summary: report?.solution ?? row.result_note ?? '',
            data: { caseNumber: row.case_number, result: row.result, workDone: report?.resolutionProcess ?? null },
            occurredAt: row.restored_at ?? new Date(input.at),
          },
        ];
        if (parts.length > 0) {
          history.push({
            kind: 'parts',
            summary: parts.map((part) => `${part.productCode} x ${part.quantity}${part.serial ? ` (${part.serial})` : ''}`).join('; '),
            data: { caseNumber: row.case_number, parts },
            occurredAt: row.restored_at ?? new Date(input.at),
          });
        }
        return {
          writes: [
            ...statusWrites(trx, row.case_id, 'closed', new Date(input.at)),
            trx
              .insertInto('device_history')
              .values(history.map((entry) => ({ device_id: row.device_id, case_id: row.case_id, kind: entry.kind, summary: entry.summary, data: JSON.stringify(entry.data), occurred_at: entry.occurredAt })))
              .onConflict((oc) => oc.columns(['case_id', 'kind']).doNothing()),
            audit(trx, row, 'archived', { at: input.at, actor: 'system', role: 'system', action: 'fault_repair.archived', data: { deviceHistory: history.map((entry) => entry.kind) } }),
          ],
          result: undefined,
        };
      });
    },

    /**
     * The fault repair becomes (part of) an emergency incident: the repair escalated (the incident
     * starts when the fault was reported), or high-risk work overran its maintenance window while
     * users were affected (the incident starts at the window's end). The incident case is linked to
     * this one; its number comes from a sequence outside the transaction. A retry finds the incident
     * of this origin already recorded.
     */
    async openIncidentFromFaultRepair(input: { caseId: string; stamp: ActorStamp; origin: 'fault_repair_escalation' | 'window_overrun'; startedAt: string | null }): Promise<{ caseId: string; caseNumber: string }> {
      const { stamp } = input;
      const recorded = (executor: DbExecutor) =>
        executor.selectFrom('incidents').select(['case_id as caseId', 'case_number as caseNumber']).where('origin_case_id', '=', input.caseId).where('origin', '=', input.origin).executeTakeFirst();
      const before = await recorded(db);
      if (before) return before;
      const number = await nextCaseNumber(db, 'INC', Number(shanghaiDate(Date.parse(stamp.at)).slice(0, 4)));
      const opened = await db.transaction().execute(async (trx) => {
        const row = await faultRepairRow(trx, input.caseId);
        await trx.selectFrom('fault_repairs').select('case_id').where('case_id', '=', row.case_id).forUpdate().executeTakeFirstOrThrow();
        const existing = await recorded(trx);
        if (existing) return existing;
        const incident = await insertIncidentCase(trx, number, {
          origin: input.origin,
          originCaseId: row.case_id,
          customerId: row.customer_id,
          contactId: row.contact_id,
          siteId: row.site_id,
          deviceId: row.device_id,
          symptom: row.symptoms,
          // An escalation: the users have been without service since the fault was reported.
          startedAt: input.startedAt ? new Date(input.startedAt) : row.reported_at,
          reportedBy: stamp.actor,
          reportedByRole: stamp.role,
          reportedAt: new Date(stamp.at),
        });
        await audit(trx, row, `incident/${input.origin}`, {
          ...stamp,
          action: 'fault_repair.incident_opened',
          comment: input.origin === 'fault_repair_escalation' ? `escalated: incident ${incident.caseNumber}` : `maintenance window overrun affecting users: incident ${incident.caseNumber}`,
          data: { incidentCaseNumber: incident.caseNumber, origin: input.origin, startedAt: input.startedAt ?? row.reported_at.toISOString() },
        }).execute();
        return { caseId: incident.caseId, caseNumber: incident.caseNumber };
      });
      logger.info({ caseNumber: opened.caseNumber, step: `incident opened (${input.origin})`, actorRole: stamp.role }, `fault repair: incident ${opened.caseNumber} opened`);
      return opened;
    },

    /** Whether users were affected by a maintenance-window overrun, as the engineer or manager found. */
    async recordFaultRepairOverrunImpact(input: { caseId: string; stamp: ActorStamp; usersAffected: boolean; note: string | null }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'overrun impact', actorRole: stamp.role, key: 'overrun-impact' }, async (row, trx) => ({
        writes: [audit(trx, row, 'overrun-impact', { ...stamp, action: 'fault_repair.overrun_impact', comment: input.note, data: { usersAffected: input.usersAffected } })],
        result: undefined,
      }));
    },

    /** Escalated and handed over to its incident: the fault repair's case closes (status `escalated`). */
    async handOverFaultRepair(input: { caseId: string; incidentCaseNumber: string; at: string }): Promise<void> {
      await caseStep(input.caseId, { step: 'handed over to incident', actorRole: 'system', key: 'handed-over' }, async (row, trx) => ({
        writes: [
          caseStatusUpdate(trx, row.case_id, 'escalated', new Date(input.at), true),
          audit(trx, row, 'handed-over', { at: input.at, actor: 'system', role: 'system', action: 'fault_repair.handed_over', comment: `continued as incident ${input.incidentCaseNumber}`, data: { incidentCaseNumber: input.incidentCaseNumber } }),
        ],
        result: undefined,
      }));
    },
  };
}
