// The read model of a DOA claim: its API shape and how it is read from the database.
import { z } from 'zod';
import type { Db } from '../../db';
import { CHECKED_CONDITIONS, DOA_CLAIM_STATUSES, DOA_CONVERSION_ANSWERS, DOA_DECISIONS, type ConditionChecks, type DoaClaimStatus } from '../../workflows/doa-claim/definitions';
import { HOUR_MS } from '../../workflows/rules/time';
import { ApiError } from '../errors';
import { evidenceFileSchema, listEvidence, staffEvidenceUrls, toEvidenceDto } from '../evidence/store';

/** Who a claim waits for, by role (the customer acts through links). */
export const DOA_WAITING_FOR = ['service_desk', 'manager', 'customer'] as const;
export type DoaWaitingFor = (typeof DOA_WAITING_FOR)[number];

const reasonSchema = z.object({ code: z.string(), en: z.string(), zh: z.string() });

export const doaClaimSchema = z
  .object({
    caseNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(DOA_CLAIM_STATUSES),
    waitingFor: z.array(z.enum(DOA_WAITING_FOR)),
    customerId: z.uuid(),
    customerName: z.string(),
    contactId: z.uuid(),
    device: z.object({ id: z.uuid(), serial: z.string(), productId: z.uuid(), warrantyEnd: z.string().nullable() }),
    arrivedOn: z.string(),
    firstPowerOnAt: z.string(),
    failedAt: z.string(),
    hoursFromPowerOnToFailure: z.number().meta({ description: 'DOA only within 48 h of the first power-on' }),
    symptoms: z.string(),
    appliedByEndUser: z.boolean(),
    applied: z.object({ at: z.string(), by: z.string(), role: z.string() }),
    conditions: z.array(
      z.object({
        condition: z.enum(CHECKED_CONDITIONS),
        value: z.union([z.boolean(), z.array(z.string())]).nullable().meta({ description: 'What the desk found (packagingDefects: the defects, none = intact); null until checked' }),
        checkedBy: z.string().nullable(),
        checkedByRole: z.string().nullable(),
        checkedAt: z.string().nullable(),
        note: z.string().nullable(),
      }),
    ),
    uncheckedConditions: z.array(z.enum(CHECKED_CONDITIONS)),
    decision: z
      .object({
        outcome: z.enum(DOA_DECISIONS),
        failedConditions: z.array(reasonSchema).meta({ description: 'Every failed condition, in the order of the rules' }),
        carrierClaimAdvised: z.boolean(),
        decidedAt: z.string(),
        decidedBy: z.string(),
      })
      .nullable(),
    replacement: z
      .object({
        approvedAt: z.string().nullable(),
        approvedBy: z.string().nullable(),
        serial: z.string().nullable(),
        carrier: z.string().nullable(),
        trackingNumber: z.string().nullable(),
        shippedAt: z.string().nullable(),
        warrantyEnd: z.string().nullable(),
        receivedAt: z.string().nullable(),
        deviceId: z.uuid().nullable(),
      })
      .nullable(),
    unitReturn: z.object({ returnedAt: z.string(), note: z.string().nullable() }).nullable(),
    conversion: z
      .object({
        offerEndsAt: z.string().nullable(),
        answer: z.enum(DOA_CONVERSION_ANSWERS).nullable(),
        answeredAt: z.string().nullable(),
        rmaCaseNumber: z.string().nullable(),
      })
      .nullable(),
    evidence: z.array(evidenceFileSchema),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() })),
  })
  .meta({ id: 'DoaClaim' });
export type DoaClaimDto = z.input<typeof doaClaimSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

const WAITING_FOR_OF: Record<DoaClaimStatus, DoaWaitingFor[]> = {
  assessment: ['service_desk'],
  replacement_approval: ['manager'],
  replacement_shipping: ['service_desk'],
  replacement_delivery: ['customer'],
  unit_return: ['customer'],
  conversion_offered: ['customer'],
  converted: [],
  closed: [],
};

/** The statuses in which a claim waits for `who`. */
export function statusesWaitingFor(who: DoaWaitingFor): DoaClaimStatus[] {
  return DOA_CLAIM_STATUSES.filter((status) => WAITING_FOR_OF[status].includes(who));
}

export async function loadDoaClaim(db: Db, caseNumber: string, withTimeline = true): Promise<DoaClaimDto> {
  const row = await db
    .selectFrom('doa_claims as a')
    .innerJoin('cases as c', 'c.id', 'a.case_id')
    .innerJoin('customers as k', 'k.id', 'a.customer_id')
    .innerJoin('devices as d', 'd.id', 'a.device_id')
    .leftJoin('cases as r', 'r.id', 'a.rma_case_id')
    .selectAll('a')
    .select(['c.workflow_id', 'k.name as customer_name', 'd.serial as device_serial', 'd.product_id', 'd.warranty_end', 'r.number as rma_case_number'])
    .where('a.case_number', '=', caseNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('DOA claim', caseNumber);
  const [events, evidence] = await Promise.all([
    withTimeline
      ? db.selectFrom('audit_events').select(['occurred_at', 'actor', 'actor_role', 'action', 'comment']).where('case_id', '=', row.case_id).orderBy('occurred_at').orderBy('id').execute()
      : Promise.resolve([]),
    listEvidence(db, row.case_id),
  ]);
  const checks = (row.condition_checks ?? {}) as ConditionChecks;
  const decided = row.decision !== null && row.decided_at !== null;
  const shipped = row.replacement_approved_at !== null || row.replacement_serial !== null;
  return {
    caseNumber: row.case_number,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    status: row.status,
    waitingFor: WAITING_FOR_OF[row.status],
    customerId: row.customer_id,
    customerName: row.customer_name,
    contactId: row.contact_id,
    device: { id: row.device_id, serial: row.device_serial, productId: row.product_id, warrantyEnd: row.warranty_end },
    arrivedOn: row.arrived_on,
    firstPowerOnAt: iso(row.first_power_on_at)!,
    failedAt: iso(row.failed_at)!,
    hoursFromPowerOnToFailure: Math.round(((row.failed_at.getTime() - row.first_power_on_at.getTime()) / HOUR_MS) * 100) / 100,
    symptoms: row.symptoms,
    appliedByEndUser: row.applied_by_end_user,
    applied: { at: iso(row.applied_at)!, by: row.registered_by, role: row.registered_by_role },
    conditions: CHECKED_CONDITIONS.map((condition) => {
      const check = checks[condition];
      return {
        condition,
        value: check === undefined ? null : typeof check.value === 'boolean' ? check.value : [...check.value],
        checkedBy: check?.checkedBy ?? null,
        checkedByRole: check?.checkedByRole ?? null,
        checkedAt: check?.checkedAt ?? null,
        note: check?.note ?? null,
      };
    }),
    uncheckedConditions: CHECKED_CONDITIONS.filter((condition) => checks[condition] === undefined),
    decision: decided
      ? {
          outcome: row.decision!,
          failedConditions: (row.failed_conditions ?? []) as { code: string; en: string; zh: string }[],
          carrierClaimAdvised: row.carrier_claim_advised ?? false,
          decidedAt: iso(row.decided_at)!,
          decidedBy: row.decided_by ?? '',
        }
      : null,
    replacement: shipped
      ? {
          approvedAt: iso(row.replacement_approved_at),
          approvedBy: row.replacement_approved_by,
          serial: row.replacement_serial,
          carrier: row.replacement_carrier,
          trackingNumber: row.replacement_tracking_number,
          shippedAt: iso(row.replacement_shipped_at),
          warrantyEnd: row.replacement_warranty_end,
          receivedAt: iso(row.receipt_confirmed_at),
          deviceId: row.replacement_device_id,
        }
      : null,
    unitReturn: row.unit_returned_at === null ? null : { returnedAt: iso(row.unit_returned_at)!, note: row.unit_return_note },
    conversion:
      row.conversion_offer_ends_at === null && row.conversion === null
        ? null
        : { offerEndsAt: iso(row.conversion_offer_ends_at), answer: row.conversion, answeredAt: iso(row.conversion_answered_at), rmaCaseNumber: row.rma_case_number },
    evidence: evidence.map((file) => toEvidenceDto(file, staffEvidenceUrls)),
    timeline: events.map((event) => ({ at: iso(event.occurred_at)!, actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}
