import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { caseStatusUpdate } from '../../db/repositories/cases';
import type { Database } from '../../db/schema';
import {
  EVIDENCE_CHASE_WORKING_DAYS,
  GOODS_CLAIM_FINAL_STATUSES,
  STATUS_OF_OUTCOME,
  type EvidenceCheck,
  type GoodsClaimStatus,
  type IdentifiersInput,
  type ResolutionInput,
} from '../../workflows/goods-claim/definitions';
import { RECORDED_IDENTIFIER_FIELDS, missingEvidence, type ClaimIdentifiers } from '../../workflows/goods-claim/evidence';
import { HOUR_MS, dayNumber, shanghaiDate, shanghaiInstantMs } from '../../workflows/rules/time';
import { nextBillingCycle } from '../shared/billing';
import { createCaseStepRunner, stepAuditInsert, type StepAudit, type StepEmail, type StepWrite } from '../shared/case-step';
import type { SignedLinks } from '../shared/signed-links';
import type { WorkingDayCalendar } from '../spare-part/activities';

/** The claim's page, emailed to the customer: what is missing, with fields for identifiers and file uploads. */
export const GOODS_CLAIM_EVIDENCE_ACTION = 'goods-claim.evidence';
/** The page link stays valid this long after the window ends, so that a customer opening it late reads what became of the claim. */
const LINK_GRACE_HOURS = 24 * 30;
/** The chase goes out at this hour (China time) of the working day after the waiting period. */
const CHASE_HOUR = 9;

export interface GoodsClaimActivityDependencies {
  db: Db;
  links: SignedLinks;
  calendar: () => Promise<WorkingDayCalendar>;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
}

async function goodsClaimRow(executor: DbExecutor, caseId: string) {
  const row = await executor
    .selectFrom('goods_claims as g')
    .innerJoin('customers as c', 'c.id', 'g.customer_id')
    .innerJoin('contacts as k', 'k.id', 'g.contact_id')
    .selectAll('g')
    .select(['c.name as customer_name', 'c.billing_day', 'k.email as contact_email', 'k.locale as contact_locale'])
    .where('g.case_id', '=', caseId)
    .executeTakeFirst();
  // Retryable: a case is committed before its workflow starts.
  if (!row) throw ApplicationFailure.retryable(`no goods claim for case ${caseId} (yet)`, 'GoodsClaimNotFound');
  const files = await executor.selectFrom('evidence_files').select('item').where('case_id', '=', caseId).execute();
  return { ...row, fileItems: files.map((file) => file.item) };
}
type GoodsClaimRow = Awaited<ReturnType<typeof goodsClaimRow>>;

/** The recorded identifiers (jsonb), keeping only the known fields. */
export function identifiersOf(value: unknown): ClaimIdentifiers {
  const record = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const identifiers: ClaimIdentifiers = {};
  for (const field of RECORDED_IDENTIFIER_FIELDS) {
    const entry = record[field];
    if (field === 'quantity') {
      if (typeof entry === 'number') identifiers.quantity = entry;
    } else if (typeof entry === 'string') {
      identifiers[field] = entry;
    }
  }
  return identifiers;
}

/** What the claim still lacks, from the database as the step's transaction reads it: the one reading of completeness. */
function missingOf(row: GoodsClaimRow, identifiers: ClaimIdentifiers = identifiersOf(row.identifiers)): string[] {
  return missingEvidence(row.kind, { identifiers, deviceSerials: row.device_serials, fileItems: row.fileItems });
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export function createGoodsClaimActivities({ db, links, calendar, emailsQueued, logger }: GoodsClaimActivityDependencies) {
  const caseStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'goods-claim',
      load: (trx, caseId) => goodsClaimRow(trx, caseId),
      caseId: (row) => row.case_id,
      caseNumber: (row) => row.claim_number,
      contact: (row) => ({ email: row.contact_email, locale: row.contact_locale }),
    },
  );

  const audit = (trx: DbExecutor, row: GoodsClaimRow, key: string, entry: StepAudit) => stepAuditInsert(trx, { caseId: row.case_id, caseNumber: row.claim_number }, key, entry);

  const statusWrites = (trx: DbExecutor, row: GoodsClaimRow, status: GoodsClaimStatus, at: Date, changes: Updateable<Database['goods_claims']> = {}): StepWrite[] => [
    trx
      .updateTable('goods_claims')
      .set({ ...changes, status, updated_at: at })
      .where('case_id', '=', row.case_id),
    caseStatusUpdate(trx, row.case_id, status, at, GOODS_CLAIM_FINAL_STATUSES.includes(status)),
  ];

  /** The claim's page link: not single-use (the customer comes back to add more), valid past the window. */
  const pageUrl = (row: GoodsClaimRow, at: string): string => {
    const hours = Math.max(1, Math.ceil((row.window_deadline_at.getTime() - Date.parse(at)) / HOUR_MS)) + LINK_GRACE_HOURS;
    return links.issue({ caseId: row.case_id, action: GOODS_CLAIM_EVIDENCE_ACTION, singleUse: false, ttlHours: hours }).url;
  };

  /** 09:00 China time of the working day after the EVIDENCE_CHASE_WORKING_DAYS working days that follow the request day. */
  const chaseInstant = async (requestedAt: string): Promise<string> => {
    const chaseDay = (await calendar()).addWorkingDays(shanghaiDate(Date.parse(requestedAt)), EVIDENCE_CHASE_WORKING_DAYS + 1).due;
    return new Date(shanghaiInstantMs(dayNumber(chaseDay), CHASE_HOUR * HOUR_MS)).toISOString();
  };

  const windowParams = (row: GoodsClaimRow) => ({ claimNumber: row.claim_number, customerName: row.customer_name, kind: row.kind, lastDay: row.window_last_day });

  /**
   * What the evidence means for the claim now, as one step: a registered claim missing evidence is
   * held in evidence_requested (the customer emailed the list and the page link, the chase instant
   * computed and recorded); a complete one, registered or held, goes to resolution. `extra` are the
   * step's own writes (recorded identifiers) that commit with it.
   */
  const progressPlan = async (
    trx: DbExecutor,
    row: GoodsClaimRow,
    at: string,
    missing: string[],
    extra: StepWrite[] = [],
  ): Promise<{ writes: StepWrite[]; emails: StepEmail[]; result: EvidenceCheck }> => {
    const status = row.status as GoodsClaimStatus;
    const atDate = new Date(at);
    if ((status === 'registered' || status === 'evidence_requested') && missing.length === 0) {
      return {
        writes: [
          ...extra,
          ...statusWrites(trx, row, 'resolution', atDate, { evidence_completed_at: atDate }),
          audit(trx, row, 'evidence-complete', { at, actor: 'system', role: 'system', action: 'goods_claim.evidence_complete', data: { heldForEvidence: status === 'evidence_requested' } }),
        ],
        emails: [{ key: 'evidence-complete', content: { template: 'goods_claim_under_review', params: windowParams(row) } }],
        result: { status: 'resolution', missing, chaseAt: iso(row.evidence_chase_at) },
      };
    }
    if (status === 'registered') {
      const chaseAt = await chaseInstant(at);
      return {
        writes: [
          ...extra,
          ...statusWrites(trx, row, 'evidence_requested', atDate, { evidence_requested_at: atDate, evidence_chase_at: new Date(chaseAt) }),
          audit(trx, row, 'evidence-requested', { at, actor: 'system', role: 'system', action: 'goods_claim.evidence_requested', comment: missing.join('; '), data: { missing, chaseAt } }),
        ],
        emails: [{ key: 'evidence-request', content: { template: 'goods_claim_evidence_request', params: { ...windowParams(row), missing, claimUrl: pageUrl(row, at) } } }],
        result: { status: 'evidence_requested', missing, chaseAt },
      };
    }
    return { writes: extra, emails: [], result: { status, missing, chaseAt: iso(row.evidence_chase_at) } };
  };

  return {
    /**
     * Checks the claim's evidence against the rules (its first step, and again whenever evidence
     * arrived): held in evidence_requested, or on to resolution once complete.
     */
    async checkGoodsClaimEvidence(input: { caseId: string; at: string }): Promise<EvidenceCheck> {
      return caseStep(input.caseId, { step: 'evidence check', actorRole: 'system', key: 'evidence-check' }, async (row, trx) => progressPlan(trx, row, input.at, missingOf(row)));
    },

    /** The desk or the customer records identifiers (packing list, box, material code, ...); the claim is checked again with them. */
    async recordGoodsClaimIdentifiers(input: { caseId: string; change: IdentifiersInput; sequence: number }): Promise<EvidenceCheck> {
      const { change } = input;
      // The workflow numbers the changes: a retried attempt writes its audit entry once, two changes in the same millisecond both.
      const key = `identifiers/${input.sequence}`;
      return caseStep(input.caseId, { step: 'identifiers recorded', actorRole: change.role, key }, async (row, trx) => {
        const identifiers: ClaimIdentifiers = { ...identifiersOf(row.identifiers), ...identifiersOf(change.identifiers) };
        const recorded = [
          trx
            .updateTable('goods_claims')
            .set({ identifiers: JSON.stringify(identifiers), updated_at: new Date(change.at) })
            .where('case_id', '=', row.case_id),
          audit(trx, row, key, { ...change, action: 'goods_claim.identifiers_recorded', data: { identifiers: change.identifiers } }),
        ];
        return progressPlan(trx, row, change.at, missingOf(row, identifiers), recorded);
      });
    },

    /**
     * The chase, when the claim is still incomplete 3 working days after the request: the customer is
     * emailed what is still missing. A claim complete by now goes to resolution instead.
     */
    async chaseGoodsClaimEvidence(input: { caseId: string; at: string }): Promise<EvidenceCheck> {
      return caseStep(input.caseId, { step: 'evidence chase', actorRole: 'system', key: 'evidence-chase' }, async (row, trx) => {
        const missing = missingOf(row);
        if (row.status !== 'evidence_requested' || missing.length === 0) return progressPlan(trx, row, input.at, missing);
        return {
          writes: [
            trx.updateTable('goods_claims').set({ evidence_chased_at: new Date(input.at), updated_at: new Date(input.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, 'evidence-chase', { at: input.at, actor: 'system', role: 'system', action: 'goods_claim.evidence_chased', comment: missing.join('; '), data: { missing } }),
          ],
          emails: [{ key: 'evidence-chase', content: { template: 'goods_claim_evidence_chase', params: { ...windowParams(row), missing, claimUrl: pageUrl(row, input.at) } } }],
          result: { status: 'evidence_requested', missing, chaseAt: iso(row.evidence_chase_at) },
        };
      });
    },

    /** The end of the window with the claim still incomplete: it lapses and the customer is told what was missing. */
    async lapseGoodsClaim(input: { caseId: string; at: string }): Promise<EvidenceCheck> {
      return caseStep(input.caseId, { step: 'lapsed', actorRole: 'system', key: 'lapsed' }, async (row, trx) => {
        const missing = missingOf(row);
        if (row.status !== 'evidence_requested' || missing.length === 0) return progressPlan(trx, row, input.at, missing);
        const at = new Date(input.at);
        return {
          writes: [
            ...statusWrites(trx, row, 'lapsed', at, { lapsed_at: at }),
            audit(trx, row, 'lapsed', { at: input.at, actor: 'system', role: 'system', action: 'goods_claim.lapsed', comment: missing.join('; '), data: { missing, lastDay: row.window_last_day } }),
          ],
          emails: [{ key: 'lapsed', content: { template: 'goods_claim_lapsed', params: { ...windowParams(row), missing } } }],
          result: { status: 'lapsed', missing, chaseAt: iso(row.evidence_chase_at) },
        };
      });
    },

    /**
     * The desk's resolution of a complete claim: a replacement shipped, a credit line (an invoice line
     * in the next billing cycle, written once), or a refusal with its reason; the customer is emailed.
     */
    async resolveGoodsClaim(input: { caseId: string; resolution: ResolutionInput }): Promise<GoodsClaimStatus> {
      const { resolution } = input;
      return caseStep(input.caseId, { step: `resolved ${resolution.outcome}`, actorRole: resolution.role, key: 'resolution' }, async (row, trx) => {
        const at = new Date(resolution.at);
        const status = STATUS_OF_OUTCOME[resolution.outcome];
        const writes: StepWrite[] = [];
        let billingCycle: string | null = null;
        const base = { outcome: resolution.outcome, resolved_by: resolution.actor, resolved_by_role: resolution.role, resolved_at: at };
        if (resolution.outcome === 'replacement') {
          writes.push(...statusWrites(trx, row, status, at, { ...base, carrier: resolution.carrier, tracking_number: resolution.trackingNumber, resolution_note: resolution.note }));
        } else if (resolution.outcome === 'credit') {
          billingCycle = nextBillingCycle(at, row.billing_day);
          writes.push(
            ...statusWrites(trx, row, status, at, { ...base, credit_amount_cents: resolution.amountCents, resolution_note: resolution.note }),
            trx
              .insertInto('invoice_lines')
              .values({
                customer_id: row.customer_id,
                case_id: row.case_id,
                billing_cycle: billingCycle,
                description: `Credit: goods claim ${row.claim_number} (${row.kind === 'transport_damage' ? 'transport damage' : 'wrong, missing or extra goods'})${resolution.note ? `: ${resolution.note}` : ''}`,
                amount_cents: -resolution.amountCents,
                source_ref: `goods-claim/${row.claim_number}/credit`,
                issued_at: null,
              })
              .onConflict((oc) => oc.column('source_ref').doNothing()),
          );
        } else {
          writes.push(...statusWrites(trx, row, status, at, { ...base, refusal_reason: resolution.reason }));
        }
        const decision =
          resolution.outcome === 'replacement'
            ? { carrier: resolution.carrier, trackingNumber: resolution.trackingNumber }
            : resolution.outcome === 'credit'
              ? { amountCents: resolution.amountCents, billingCycle }
              : { reason: resolution.reason };
        writes.push(
          audit(trx, row, 'resolution', {
            actor: resolution.actor,
            role: resolution.role,
            at: resolution.at,
            action: `goods_claim.${status}`,
            comment: resolution.outcome === 'refusal' ? resolution.reason : resolution.note,
            data: { outcome: resolution.outcome, ...decision },
          }),
        );
        const params = { claimNumber: row.claim_number, customerName: row.customer_name, kind: row.kind };
        const email: StepEmail =
          resolution.outcome === 'replacement'
            ? { key: 'resolution', content: { template: 'goods_claim_resolved', params: { ...params, outcome: 'replacement', carrier: resolution.carrier, trackingNumber: resolution.trackingNumber, amountCents: null, reason: null } } }
            : resolution.outcome === 'credit'
              ? { key: 'resolution', content: { template: 'goods_claim_resolved', params: { ...params, outcome: 'credit', carrier: null, trackingNumber: null, amountCents: resolution.amountCents, reason: null } } }
              : { key: 'resolution', content: { template: 'goods_claim_resolved', params: { ...params, outcome: 'refusal', carrier: null, trackingNumber: null, amountCents: null, reason: resolution.reason } } };
        return { writes, emails: [email], result: status };
      });
    },
  };
}
