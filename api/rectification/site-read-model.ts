import { z } from 'zod';
import type { Db } from '../../db';
import { RECTIFICATION_DEVICE_STATUSES } from '../../workflows/rectification/definitions';
import { PART_DISPOSITIONS, RECTIFICATION_SITE_STATUSES, RETURNED_PART_STATUSES, SLOT_MOVE_REASONS } from '../../workflows/rectification/site-definitions';
import { SIGN_OFF_STATUSES, SIGN_OFF_STEPS } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import { signOffStateOf } from '../sign-off/read-model';

// GET /rectification-campaigns/:number/sites/:siteId: one site of a campaign, read from its rows
// (never from the workflow's history): work order, plan with its reviews, slot and every move with
// its reason, attempts, report and replaced parts.

const documentProgress = z.object({
  documentId: z.string(),
  status: z.enum(SIGN_OFF_STATUSES),
  currentVersion: z.number().int(),
  waitingFor: z.enum(SIGN_OFF_STEPS).nullable(),
  href: z.string(),
});

export const rectificationSiteSchema = z
  .object({
    campaignNumber: z.string(),
    siteId: z.string(),
    siteName: z.string(),
    customerId: z.string(),
    customerName: z.string(),
    status: z.enum(RECTIFICATION_SITE_STATUSES),
    highRisk: z.boolean().meta({ description: 'The plan needs R&D review, finished at least 3 days before the slot' }),
    devices: z.array(z.object({ deviceId: z.string(), serial: z.string(), status: z.enum(RECTIFICATION_DEVICE_STATUSES).nullable() })),
    workOrder: z.object({
      openedAt: z.string(),
      materials: z.array(z.object({ productCode: z.string(), quantity: z.number().int() })).nullable(),
      materialsPickedAt: z.string().nullable(),
      materialsPickedBy: z.string().nullable(),
    }),
    plan: documentProgress.extend({ signedVersion: z.number().int().nullable(), signedAt: z.string().nullable() }).nullable(),
    reviews: z
      .array(z.object({ version: z.number().int(), step: z.string(), decision: z.string(), comment: z.string().nullable(), decidedBy: z.string(), role: z.string(), decidedAt: z.string() }))
      .meta({ description: "Every decision on the implementation plan: technical review, R&D review, the customer's approval" }),
    rdReview: z.object({
      required: z.boolean(),
      dueAt: z.string().nullable().meta({ description: 'Slot - 3 days, while the review is open' }),
      overdueAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
    }),
    slot: z.object({ seq: z.number().int(), startsAt: z.string(), durationMinutes: z.number().int(), confirmedAt: z.string().nullable() }).nullable(),
    slotHistory: z.array(
      z.object({
        seq: z.number().int(),
        reason: z.enum(SLOT_MOVE_REASONS),
        detail: z.string(),
        startsAt: z.string(),
        durationMinutes: z.number().int(),
        previousStartsAt: z.string().nullable(),
        movedBy: z.string(),
        movedByRole: z.string(),
        movedAt: z.string(),
        confirmedAt: z.string().nullable(),
        confirmedBy: z.string().nullable(),
      }),
    ),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        slotStartsAt: z.string(),
        startedAt: z.string(),
        startedBy: z.string(),
        outcome: z.enum(['succeeded', 'failed']).nullable(),
        result: z.string().nullable(),
        rollback: z.string().nullable(),
        finishedAt: z.string().nullable(),
      }),
    ),
    report: documentProgress.extend({ signedAt: z.string().nullable() }).nullable(),
    parts: z.array(
      z.object({
        id: z.string(),
        deviceId: z.string(),
        productCode: z.string(),
        serial: z.string(),
        disposition: z.enum(PART_DISPOSITIONS),
        status: z.enum(RETURNED_PART_STATUSES),
        returnDueDate: z.string().nullable().meta({ description: 'Kept by the customer: 15 China working days after the work' }),
        returnDueAt: z.string().nullable(),
        remindedAt: z.string().nullable(),
        overdueAt: z.string().nullable(),
        receivedAt: z.string().nullable(),
        receivedBy: z.string().nullable(),
      }),
    ),
    archivedAt: z.string().nullable(),
    declined: z
      .object({ at: z.string(), by: z.string().nullable(), reason: z.string().nullable(), evidenceIds: z.array(z.string()) })
      .nullable()
      .meta({ description: "The customer's refusal of the site work, with its proof (evidence on the campaign's case)" }),
  })
  .meta({ id: 'RectificationSite' });
export type RectificationSiteDto = z.input<typeof rectificationSiteSchema>;

const iso = (value: Date | string): string => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

async function documentOf(db: Db, documentId: string | null) {
  if (!documentId) return null;
  const [document, versions, decisions] = await Promise.all([
    db.selectFrom('documents').select(['steps']).where('id', '=', documentId).executeTakeFirstOrThrow(),
    db.selectFrom('document_versions').select('version').where('document_id', '=', documentId).orderBy('version', 'desc').limit(1).execute(),
    db.selectFrom('document_decisions').selectAll().where('document_id', '=', documentId).orderBy('decided_at').orderBy('id').execute(),
  ]);
  const currentVersion = versions[0]?.version ?? 0;
  const { status, waitingFor } = signOffStateOf(document.steps, currentVersion, decisions);
  return { progress: { documentId, status, currentVersion, waitingFor, href: `/documents/${documentId}` }, decisions };
}

export async function loadRectificationSite(db: Db, campaignNumber: string, siteId: string): Promise<RectificationSiteDto> {
  const row = await db
    .selectFrom('rectification_sites as r')
    .innerJoin('sites as s', 's.id', 'r.site_id')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .selectAll('r')
    .select(['s.name as site_name', 'c.name as customer_name'])
    .where('r.campaign_number', '=', campaignNumber)
    .where('r.site_id', '=', siteId)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('rectification site', `${campaignNumber}/${siteId}`);
  const [devices, moves, attempts, parts, plan, report] = await Promise.all([
    db
      .selectFrom('devices as d')
      .leftJoin('rectification_devices as rd', (join) => join.onRef('rd.device_id', '=', 'd.id').on('rd.campaign_case_id', '=', row.campaign_case_id))
      .select(['d.id', 'd.serial', 'rd.status'])
      .where('d.id', 'in', row.device_ids)
      .orderBy('d.serial')
      .execute(),
    db.selectFrom('rectification_slot_moves').selectAll().where('campaign_case_id', '=', row.campaign_case_id).where('site_id', '=', siteId).orderBy('seq').execute(),
    db.selectFrom('rectification_site_attempts').selectAll().where('campaign_case_id', '=', row.campaign_case_id).where('site_id', '=', siteId).orderBy('attempt').execute(),
    db.selectFrom('rectification_returned_parts').selectAll().where('campaign_case_id', '=', row.campaign_case_id).where('site_id', '=', siteId).orderBy('serial').execute(),
    documentOf(db, row.plan_document_id),
    documentOf(db, row.report_document_id),
  ]);
  const currentSlot = row.slot_starts_at && row.slot_duration_minutes !== null ? moves.at(-1) : undefined;
  return {
    campaignNumber: row.campaign_number,
    siteId: row.site_id,
    siteName: row.site_name,
    customerId: row.customer_id,
    customerName: row.customer_name,
    status: row.status,
    highRisk: row.high_risk,
    devices: devices.map((device) => ({ deviceId: device.id, serial: device.serial, status: device.status })),
    workOrder: { openedAt: iso(row.work_order_opened_at), materials: row.materials, materialsPickedAt: isoOrNull(row.materials_picked_at), materialsPickedBy: row.materials_picked_by },
    plan: plan ? { ...plan.progress, signedVersion: row.plan_signed_version, signedAt: isoOrNull(row.plan_signed_at) } : null,
    reviews: (plan?.decisions ?? []).map((decision) => ({
      version: decision.version,
      step: decision.step,
      decision: decision.decision,
      comment: decision.comment,
      decidedBy: decision.decided_by,
      role: decision.decided_by_role,
      decidedAt: iso(decision.decided_at),
    })),
    rdReview: { required: row.high_risk, dueAt: isoOrNull(row.rd_review_due_at), overdueAt: isoOrNull(row.rd_review_overdue_at), finishedAt: isoOrNull(row.rd_review_finished_at) },
    slot:
      row.slot_starts_at && row.slot_duration_minutes !== null
        ? { seq: currentSlot?.seq ?? moves.length, startsAt: iso(row.slot_starts_at), durationMinutes: row.slot_duration_minutes, confirmedAt: isoOrNull(row.slot_confirmed_at) }
        : null,
    slotHistory: moves.map((move) => ({
      seq: move.seq,
      reason: move.reason,
      detail: move.detail,
      startsAt: iso(move.starts_at),
      durationMinutes: move.duration_minutes,
      previousStartsAt: isoOrNull(move.previous_starts_at),
      movedBy: move.moved_by,
      movedByRole: move.moved_by_role,
      movedAt: iso(move.moved_at),
      confirmedAt: isoOrNull(move.confirmed_at),
      confirmedBy: move.confirmed_by,
    })),
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      slotStartsAt: iso(attempt.slot_starts_at),
      startedAt: iso(attempt.started_at),
      startedBy: attempt.started_by,
      outcome: attempt.outcome,
      result: attempt.result,
      rollback: attempt.rollback,
      finishedAt: isoOrNull(attempt.finished_at),
    })),
    report: report ? { ...report.progress, signedAt: isoOrNull(row.report_signed_at) } : null,
    parts: parts.map((part) => ({
      id: part.id,
      deviceId: part.device_id,
      productCode: part.product_code,
      serial: part.serial,
      disposition: part.disposition,
      status: part.status,
      returnDueDate: part.return_due_date === null ? null : String(part.return_due_date),
      returnDueAt: isoOrNull(part.return_due_at),
      remindedAt: isoOrNull(part.reminded_at),
      overdueAt: isoOrNull(part.overdue_at),
      receivedAt: isoOrNull(part.received_at),
      receivedBy: part.received_by,
    })),
    archivedAt: isoOrNull(row.archived_at),
    declined: row.declined_at ? { at: iso(row.declined_at), by: row.declined_by, reason: row.decline_reason, evidenceIds: row.decline_evidence_ids ?? [] } : null,
  };
}
