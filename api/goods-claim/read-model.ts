// The read model of a goods claim: its API shape and how it is read from the database.
import { z } from 'zod';
import { identifiersOf } from '../../activities/goods-claim/activities';
import type { Db } from '../../db';
import { EVIDENCE_TYPES } from '../../db/schema';
import { GOODS_CLAIM_KINDS, GOODS_CLAIM_OUTCOMES, GOODS_CLAIM_STATUSES } from '../../workflows/goods-claim/definitions';
import { CLAIM_IDENTIFIER_FIELDS, missingEvidence, provisionOf } from '../../workflows/goods-claim/evidence';
import { CLAIM_EVIDENCE, claimWindow } from '../../workflows/rules/goods';
import { ApiError } from '../errors';
import { staffEvidenceUrls } from '../evidence/store';

const label = z.object({ en: z.string(), 'zh-CN': z.string() });

export const goodsClaimSchema = z
  .object({
    claimNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(GOODS_CLAIM_STATUSES),
    kind: z.enum(GOODS_CLAIM_KINDS),
    customerId: z.uuid(),
    customerName: z.string(),
    contactId: z.uuid(),
    deviceSerials: z.array(z.string()),
    description: z.string(),
    carriedByUs: z.boolean().nullable().meta({ description: 'Transport damage: our company carried the goods; null for the other kind' }),
    window: z.object({
      arrivedOn: z.string().meta({ description: 'Day 0 of the window' }),
      claimedAt: z.string(),
      dayOfClaim: z.number().int().meta({ description: 'Calendar days from arrival to the claim (China dates)' }),
      lastDay: z.string().meta({ description: 'The last day a claim is accepted' }),
      deadlineAt: z.string().meta({ description: 'The end of the last day: an incomplete claim lapses then' }),
      rule: z.object({ en: z.string(), zh: z.string() }),
    }),
    identifiers: z.object({
      packingListNumber: z.string().optional(),
      boxNumber: z.string().optional(),
      materialCode: z.string().optional(),
      quantity: z.number().int().optional(),
      contractAndOrderNumber: z.string().optional(),
    }),
    evidence: z.object({
      required: z.array(
        z.object({
          item: z.string().meta({ description: 'The requirement as the rules state it; an evidence file names it as its `item`' }),
          providedBy: z.enum(['identifier', 'file']),
          identifierField: z.enum(CLAIM_IDENTIFIER_FIELDS).nullable(),
          label,
          provided: z.boolean(),
        }),
      ),
      missing: z.array(z.string()),
      files: z.array(
        z.object({
          id: z.uuid(),
          item: z.string().nullable(),
          fileName: z.string(),
          sniffedType: z.enum(EVIDENCE_TYPES),
          sizeBytes: z.number().int(),
          uploadedBy: z.string(),
          uploadedByRole: z.string(),
          uploadedAt: z.string(),
          url: z.string().meta({ description: 'Download path (staff)' }),
        }),
      ),
      requestedAt: z.string().nullable(),
      chaseAt: z.string().nullable().meta({ description: 'When the customer is (or was) chased if still incomplete: 09:00 after 3 working days' }),
      chasedAt: z.string().nullable(),
      completedAt: z.string().nullable(),
    }),
    lapsedAt: z.string().nullable(),
    decision: z
      .object({
        outcome: z.enum(GOODS_CLAIM_OUTCOMES),
        carrier: z.string().nullable(),
        trackingNumber: z.string().nullable(),
        creditAmountCents: z.number().int().nullable(),
        reason: z.string().nullable(),
        note: z.string().nullable(),
        by: z.string(),
        role: z.string(),
        at: z.string(),
        invoiceLine: z.object({ id: z.uuid(), billingCycle: z.string(), amountCents: z.number().int(), issued: z.boolean() }).nullable(),
      })
      .nullable(),
    registered: z.object({ by: z.string(), role: z.string(), at: z.string() }),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() })),
  })
  .meta({ id: 'GoodsClaim' });
export type GoodsClaimDto = z.input<typeof goodsClaimSchema>;

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export async function loadGoodsClaim(db: Db, claimNumber: string, withDetails = true): Promise<GoodsClaimDto> {
  const row = await db
    .selectFrom('goods_claims as g')
    .innerJoin('cases as k', 'k.id', 'g.case_id')
    .innerJoin('customers as c', 'c.id', 'g.customer_id')
    .selectAll('g')
    .select(['k.workflow_id', 'c.name as customer_name'])
    .where('g.claim_number', '=', claimNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('Goods claim', claimNumber);
  const [files, events, invoiceLine] = await Promise.all([
    db
      .selectFrom('evidence_files')
      .select(['id', 'item', 'file_name', 'sniffed_type', 'size_bytes', 'uploaded_by', 'uploaded_by_role', 'uploaded_at'])
      .where('case_id', '=', row.case_id)
      .orderBy('uploaded_at')
      .orderBy('id')
      .execute(),
    withDetails ? db.selectFrom('audit_events').selectAll().where('case_id', '=', row.case_id).orderBy('occurred_at').orderBy('id').execute() : Promise.resolve([]),
    db.selectFrom('invoice_lines').select(['id', 'billing_cycle', 'amount_cents', 'issued_at']).where('source_ref', '=', `goods-claim/${row.claim_number}/credit`).executeTakeFirst(),
  ]);
  const identifiers = identifiersOf(row.identifiers);
  const missing = missingEvidence(row.kind, { identifiers, deviceSerials: row.device_serials, fileItems: files.map((file) => file.item) });
  const window = claimWindow(row.kind, row.arrived_on, row.claimed_at.toISOString());
  return {
    claimNumber: row.claim_number,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    status: row.status as GoodsClaimDto['status'],
    kind: row.kind,
    customerId: row.customer_id,
    customerName: row.customer_name,
    contactId: row.contact_id,
    deviceSerials: row.device_serials,
    description: row.description,
    carriedByUs: row.carried_by_us,
    window: {
      arrivedOn: row.arrived_on,
      claimedAt: row.claimed_at.toISOString(),
      dayOfClaim: row.day_of_claim,
      lastDay: row.window_last_day,
      deadlineAt: row.window_deadline_at.toISOString(),
      rule: window.rule,
    },
    identifiers,
    evidence: {
      required: CLAIM_EVIDENCE[row.kind].map((item) => {
        const provision = provisionOf(item);
        return { item, providedBy: provision.by, identifierField: provision.by === 'identifier' ? provision.field : null, label: provision.label, provided: !missing.includes(item) };
      }),
      missing,
      files: files.map((file) => ({
        id: file.id,
        item: file.item,
        fileName: file.file_name,
        sniffedType: file.sniffed_type,
        sizeBytes: file.size_bytes,
        uploadedBy: file.uploaded_by,
        uploadedByRole: file.uploaded_by_role,
        uploadedAt: file.uploaded_at.toISOString(),
        url: staffEvidenceUrls.file(file.id),
      })),
      requestedAt: iso(row.evidence_requested_at),
      chaseAt: iso(row.evidence_chase_at),
      chasedAt: iso(row.evidence_chased_at),
      completedAt: iso(row.evidence_completed_at),
    },
    lapsedAt: iso(row.lapsed_at),
    decision:
      row.outcome && row.resolved_at
        ? {
            outcome: row.outcome,
            carrier: row.carrier,
            trackingNumber: row.tracking_number,
            creditAmountCents: row.credit_amount_cents,
            reason: row.refusal_reason,
            note: row.resolution_note,
            by: row.resolved_by ?? '',
            role: row.resolved_by_role ?? '',
            at: row.resolved_at.toISOString(),
            invoiceLine: invoiceLine ? { id: invoiceLine.id, billingCycle: invoiceLine.billing_cycle, amountCents: invoiceLine.amount_cents, issued: invoiceLine.issued_at !== null } : null,
          }
        : null,
    registered: { by: row.registered_by, role: row.registered_by_role, at: row.created_at.toISOString() },
    timeline: events.map((event) => ({ at: event.occurred_at.toISOString(), actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}
