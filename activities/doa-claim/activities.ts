import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { caseStatusUpdate, nextCaseNumber } from '../../db/repositories/cases';
import { insertRmaRepairCase } from '../../db/repositories/rma-repairs';
import type { Database } from '../../db/schema';
import {
  CHECKED_CONDITIONS,
  CONVERSION_OFFER_DAYS,
  DOA_CLAIM_FINAL_STATUSES,
  type CheckedCondition,
  type ConditionChecks,
  type ConditionFinding,
  type DecisionRecord,
  type DoaClaimStatus,
} from '../../workflows/doa-claim/definitions';
import { assessDoa, replacementWarranty, type DoaApplication, type PackagingDefect } from '../../workflows/rules/goods';
import { shanghaiDate } from '../../workflows/rules/time';
import { BUSINESS_RULE_VIOLATION, type ActorStamp } from '../../workflows/shared/definitions';
import { createCaseStepRunner, stepAuditInsert, type StepEmail, type StepWrite } from '../shared/case-step';
import { DEFAULT_RETURN_ADDRESS } from '../shared/config';
import type { SignedLinks } from '../shared/signed-links';

/** The customer's links of a DOA claim (api/doa-claim/link-actions.ts). */
export const DOA_EVIDENCE_ACTION = 'doa.evidence';
export const DOA_CONFIRM_RECEIPT_ACTION = 'doa.confirm-receipt';
export const DOA_CONVERSION_ACTION = 'doa.convert';
const EVIDENCE_LINK_TTL_HOURS = 24 * 30;
const RECEIPT_LINK_TTL_HOURS = 24 * 60;
const DAY_MS = 24 * 3_600_000;

/** What the customer is asked to upload for a DOA claim [004 11.2.1]. */
export const DOA_EVIDENCE_ITEMS: readonly { en: string; zh: string }[] = [
  { en: 'goods-problem application form', zh: '货物问题申请表' },
  { en: 'photos of the faulty unit', zh: '故障设备照片' },
  { en: 'photos of all six sides of the original packaging', zh: '原包装箱六面照片' },
  { en: 'photos of the seals and labels on the unit', zh: '主机封条和机体标签照片' },
  { en: 'photo of the packing list with the accessories', zh: '装箱清单及随机附件照片' },
];

export interface DoaClaimActivityDependencies {
  db: Db;
  links: SignedLinks;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
  /** Where customers send units back (RMA_RETURN_ADDRESS). */
  returnAddress?: string | undefined;
}

async function doaClaimRow(executor: DbExecutor, caseId: string) {
  const row = await executor
    .selectFrom('doa_claims as a')
    .innerJoin('customers as c', 'c.id', 'a.customer_id')
    .innerJoin('contacts as k', 'k.id', 'a.contact_id')
    .innerJoin('devices as d', 'd.id', 'a.device_id')
    .selectAll('a')
    .select(['c.name as customer_name', 'k.email as contact_email', 'k.locale as contact_locale', 'd.serial as device_serial', 'd.product_id', 'd.site_id', 'd.warranty_end'])
    .where('a.case_id', '=', caseId)
    .executeTakeFirst();
  // Retryable: a case is committed before its workflow starts.
  if (!row) throw ApplicationFailure.retryable(`no DOA claim for case ${caseId} (yet)`, 'DoaClaimNotFound');
  return row;
}
type DoaClaimRow = Awaited<ReturnType<typeof doaClaimRow>>;

function conditionChecksOf(value: unknown): ConditionChecks {
  if (!value || typeof value !== 'object') return {};
  const checks: ConditionChecks = value;
  return checks;
}

export function uncheckedConditionsOf(checks: ConditionChecks): CheckedCondition[] {
  return CHECKED_CONDITIONS.filter((condition) => checks[condition] === undefined);
}

const asBoolean = (finding: ConditionFinding | undefined): boolean => finding === true;
const asDefects = (finding: ConditionFinding | undefined): readonly PackagingDefect[] => (finding === undefined || typeof finding === 'boolean' ? [] : finding);

/** The rules' application from what the customer stated and what the desk found in the evidence. */
export function doaApplicationOf(row: { first_power_on_at: Date; failed_at: Date; applied_by_end_user: boolean }, checks: ConditionChecks): DoaApplication {
  const found = (condition: CheckedCondition) => checks[condition]?.value;
  return {
    firstPowerOnAt: row.first_power_on_at.toISOString(),
    failedAt: row.failed_at.toISOString(),
    appliedByEndUser: row.applied_by_end_user,
    applicationFormProvided: asBoolean(found('applicationFormProvided')),
    photosProvided: asBoolean(found('photosProvided')),
    isTestProductOrSample: asBoolean(found('isTestProductOrSample')),
    originalPackagingProvided: asBoolean(found('originalPackagingProvided')),
    packagingDefects: asDefects(found('packagingDefects')),
    packingMaterialsComplete: asBoolean(found('packingMaterialsComplete')),
    accessoriesCompleteAgainstPackingList: asBoolean(found('accessoriesCompleteAgainstPackingList')),
    physicalDamage: asBoolean(found('physicalDamage')),
    sealsUnbroken: asBoolean(found('sealsUnbroken')),
    labelsComplete: asBoolean(found('labelsComplete')),
    originalHardwareAndPreinstalledSoftware: asBoolean(found('originalHardwareAndPreinstalledSoftware')),
  };
}

export function createDoaClaimActivities({ db, links, emailsQueued, logger, returnAddress = DEFAULT_RETURN_ADDRESS }: DoaClaimActivityDependencies) {
  const caseStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'doa-claim',
      load: (trx, caseId) => doaClaimRow(trx, caseId),
      caseId: (row) => row.case_id,
      caseNumber: (row) => row.case_number,
      contact: (row) => ({ email: row.contact_email, locale: row.contact_locale }),
    },
  );

  const audit = (trx: DbExecutor, row: DoaClaimRow, key: string, entry: { stamp: ActorStamp; action: string; comment?: string | null; data?: Record<string, unknown> }) =>
    stepAuditInsert(trx, { caseId: row.case_id, caseNumber: row.case_number }, key, { ...entry.stamp, action: entry.action, comment: entry.comment ?? null, data: entry.data ?? {} });

  const statusWrites = (trx: DbExecutor, row: DoaClaimRow, status: DoaClaimStatus, at: string, changes: Updateable<Database['doa_claims']> = {}): StepWrite[] => [
    trx
      .updateTable('doa_claims')
      .set({ ...changes, status, updated_at: new Date(at) })
      .where('case_id', '=', row.case_id),
    caseStatusUpdate(trx, row.case_id, status, new Date(at), DOA_CLAIM_FINAL_STATUSES.includes(status)),
  ];

  const claimParams = (row: DoaClaimRow) => ({ caseNumber: row.case_number, customerName: row.customer_name, deviceSerial: row.device_serial });

  const staffEmails = async (trx: DbExecutor, row: DoaClaimRow, role: 'manager' | 'service_desk', key: string, template: 'doa_replacement_approval_requested' | 'doa_replacement_to_ship'): Promise<StepEmail[]> => {
    const users = await trx.selectFrom('users').select(['id', 'email']).where('role', '=', role).where('disabled_at', 'is', null).orderBy('email').execute();
    return users.map((user) => ({ key: `${key}/${user.id}`, content: { template, params: claimParams(row) }, to: { email: user.email, locale: 'zh-CN' } }));
  };

  return {
    /** The customer is told the claim is registered and given the link to upload the evidence. */
    async acknowledgeDoaClaim(input: { caseId: string }): Promise<void> {
      await caseStep(input.caseId, { step: 'acknowledged', actorRole: 'system' }, async (row) => {
        const link = links.issue({ caseId: row.case_id, action: DOA_EVIDENCE_ACTION, singleUse: false, ttlHours: EVIDENCE_LINK_TTL_HOURS });
        const zh = row.contact_locale === 'zh-CN';
        return {
          writes: [],
          emails: [
            {
              key: 'acknowledgement',
              content: { template: 'doa_claim_received', params: { ...claimParams(row), evidenceUrl: link.url, evidenceItems: DOA_EVIDENCE_ITEMS.map((item) => (zh ? item.zh : item.en)) } },
            },
          ],
          result: undefined,
        };
      });
    },

    /** The desk's findings for some conditions, each stamped with who checked it; answers the conditions still unchecked. */
    async recordDoaConditionChecks(input: { caseId: string; stamp: ActorStamp; findings: Partial<Record<CheckedCondition, ConditionFinding>>; note: string | null }): Promise<CheckedCondition[]> {
      const { stamp } = input;
      const key = `checks/${stamp.at}/${stamp.actor}`;
      return caseStep(input.caseId, { step: 'conditions checked', actorRole: stamp.role, key }, async (row, trx) => {
        const checks = conditionChecksOf(row.condition_checks);
        for (const condition of CHECKED_CONDITIONS) {
          const value = input.findings[condition];
          if (value === undefined) continue;
          checks[condition] = { value, checkedBy: stamp.actor, checkedByRole: stamp.role, checkedAt: stamp.at, note: input.note };
        }
        return {
          writes: [
            trx.updateTable('doa_claims').set({ condition_checks: JSON.stringify(checks), updated_at: new Date(stamp.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, key, { stamp, action: 'doa_claim.conditions_checked', comment: input.note, data: { findings: input.findings } }),
          ],
          result: uncheckedConditionsOf(checks),
        };
      });
    },

    /**
     * The decision by the rules (assessDoa) from the application and the desk's checks, with every
     * failed condition. Accepted: the managers are asked to approve a new unit. Rejected: the
     * customer gets every reason and the offer of an RMA repair, open for 30 days.
     */
    async decideDoaClaim(input: { caseId: string; stamp: ActorStamp; comment: string | null }): Promise<{ record: DecisionRecord; conversionOfferEndsAt: string | null }> {
      const { stamp } = input;
      const key = `decision/${stamp.at}`;
      return caseStep(input.caseId, { step: 'decided', actorRole: stamp.role, key }, async (row, trx) => {
        const checks = conditionChecksOf(row.condition_checks);
        const unchecked = uncheckedConditionsOf(checks);
        if (unchecked.length > 0) {
          throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, nonRetryable: true, message: `conditions not checked yet: ${unchecked.join(', ')}` });
        }
        const assessment = assessDoa(doaApplicationOf(row, checks));
        const record: DecisionRecord = {
          outcome: assessment.eligible ? 'accepted' : 'rejected',
          failedConditions: assessment.failedConditions,
          carrierClaimAdvised: assessment.carrierClaimAdvised,
        };
        const accepted = record.outcome === 'accepted';
        const offerEndsAt = accepted ? null : new Date(Date.parse(stamp.at) + CONVERSION_OFFER_DAYS * DAY_MS).toISOString();
        const decisionColumns = {
          decision: record.outcome,
          failed_conditions: JSON.stringify(record.failedConditions),
          carrier_claim_advised: record.carrierClaimAdvised,
          decided_at: new Date(stamp.at),
          decided_by: stamp.actor,
          conversion_offer_ends_at: offerEndsAt === null ? null : new Date(offerEndsAt),
        };
        const writes = [
          ...statusWrites(trx, row, accepted ? 'replacement_approval' : 'conversion_offered', stamp.at, decisionColumns),
          audit(trx, row, key, {
            stamp,
            action: accepted ? 'doa_claim.accepted' : 'doa_claim.rejected',
            comment: input.comment,
            data: { failedConditions: record.failedConditions, hoursFromPowerOnToFailure: assessment.hoursFromPowerOnToFailure, carrierClaimAdvised: record.carrierClaimAdvised },
          }),
        ];
        let emails: StepEmail[];
        if (accepted) {
          emails = [{ key: `${key}/accepted`, content: { template: 'doa_claim_accepted', params: claimParams(row) } }, ...(await staffEmails(trx, row, 'manager', `${key}/approval`, 'doa_replacement_approval_requested'))];
        } else {
          const link = links.issue({ caseId: row.case_id, action: DOA_CONVERSION_ACTION, singleUse: true, ttlHours: CONVERSION_OFFER_DAYS * 24 });
          emails = [
            {
              key: `${key}/rejected`,
              content: {
                template: 'doa_claim_rejected',
                params: {
                  ...claimParams(row),
                  reasons: record.failedConditions.map((condition) => ({ en: condition.en, zh: condition.zh })),
                  carrierClaimAdvised: record.carrierClaimAdvised,
                  convertUrl: link.url,
                  offerEndsOn: shanghaiDate(Date.parse(offerEndsAt!)),
                },
              },
            },
          ];
        }
        return { writes, emails, result: { record, conversionOfferEndsAt: offerEndsAt } };
      });
    },

    /** The manager approves the new unit (the desk is asked to ship it) or sends the claim back to assessment. */
    async approveDoaReplacement(input: { caseId: string; stamp: ActorStamp; approved: boolean; comment: string | null }): Promise<void> {
      const { stamp } = input;
      const key = `replacement-approval/${stamp.at}`;
      await caseStep(input.caseId, { step: input.approved ? 'replacement approved' : 'replacement not approved', actorRole: stamp.role, key }, async (row, trx) => {
        const changes: Updateable<Database['doa_claims']> = input.approved
          ? { replacement_approved_at: new Date(stamp.at), replacement_approved_by: stamp.actor }
          : { decision: null, failed_conditions: null, carrier_claim_advised: null, decided_at: null, decided_by: null };
        return {
          writes: [
            ...statusWrites(trx, row, input.approved ? 'replacement_shipping' : 'assessment', stamp.at, changes),
            audit(trx, row, key, { stamp, action: input.approved ? 'doa_claim.replacement_approved' : 'doa_claim.replacement_not_approved', comment: input.comment }),
          ],
          emails: input.approved ? await staffEmails(trx, row, 'service_desk', key, 'doa_replacement_to_ship') : [],
          result: undefined,
        };
      });
    },

    /** The new unit shipped: the customer gets the tracking, the receipt link and where to send the DOA unit. */
    async shipDoaReplacement(input: { caseId: string; stamp: ActorStamp; newSerial: string; carrier: string; trackingNumber: string }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'replacement shipped', actorRole: stamp.role, key: 'shipment' }, async (row, trx) => {
        const warranty = replacementWarranty(shanghaiDate(Date.parse(stamp.at)), row.warranty_end);
        const link = links.issue({ caseId: row.case_id, action: DOA_CONFIRM_RECEIPT_ACTION, singleUse: true, ttlHours: RECEIPT_LINK_TTL_HOURS });
        return {
          writes: [
            ...statusWrites(trx, row, 'replacement_delivery', stamp.at, {
              replacement_serial: input.newSerial,
              replacement_carrier: input.carrier,
              replacement_tracking_number: input.trackingNumber,
              replacement_shipped_at: new Date(stamp.at),
              replacement_warranty_end: warranty.endsOn,
            }),
            audit(trx, row, 'shipment', { stamp, action: 'doa_claim.replacement_shipped', data: { newSerial: input.newSerial, carrier: input.carrier, trackingNumber: input.trackingNumber, warranty } }),
          ],
          emails: [
            {
              key: 'shipment',
              content: {
                template: 'doa_replacement_shipped',
                params: { ...claimParams(row), newSerial: input.newSerial, carrier: input.carrier, trackingNumber: input.trackingNumber, confirmReceiptUrl: link.url, warrantyEnd: warranty.endsOn, returnAddress },
              },
            },
          ],
          result: undefined,
        };
      });
    },

    /** The customer has the new unit: it enters the installed base with its warranty (recorded at shipping). */
    async confirmDoaReplacementReceipt(input: { caseId: string; stamp: ActorStamp }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'replacement received', actorRole: stamp.role, key: 'receipt' }, async (row, trx) => {
        if (row.replacement_serial === null) throw ApplicationFailure.nonRetryable(`DOA claim ${row.case_number}: no replacement shipped`, 'DoaReplacementMissing');
        const existing = await trx.selectFrom('devices').select(['id', 'customer_id']).where('serial', '=', row.replacement_serial).executeTakeFirst();
        if (existing && existing.id !== row.replacement_device_id && existing.customer_id !== row.customer_id) {
          throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, nonRetryable: true, message: `serial ${row.replacement_serial} is already in another customer's installed base` });
        }
        const device =
          existing ??
          (await trx
            .insertInto('devices')
            .values({ serial: row.replacement_serial, product_id: row.product_id, customer_id: row.customer_id, site_id: row.site_id, warranty_end: row.replacement_warranty_end, first_power_on_at: null })
            .returning(['id', 'customer_id'])
            .executeTakeFirstOrThrow());
        const unitBack = row.unit_returned_at !== null;
        return {
          writes: [
            ...statusWrites(trx, row, unitBack ? 'closed' : 'unit_return', stamp.at, { receipt_confirmed_at: new Date(stamp.at), replacement_device_id: device.id }),
            audit(trx, row, 'receipt', { stamp, action: 'doa_claim.replacement_received', data: { deviceId: device.id, serial: row.replacement_serial, warrantyEnd: row.replacement_warranty_end } }),
          ],
          result: undefined,
        };
      });
    },

    /** The DOA unit is back (its serial must match the claim's device: the API checks it first). */
    async recordDoaUnitReturn(input: { caseId: string; stamp: ActorStamp; receivedSerial: string; note: string | null }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'DOA unit returned', actorRole: stamp.role, key: 'unit-return' }, async (row, trx) => {
        if (input.receivedSerial !== row.device_serial) {
          throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, nonRetryable: true, message: `received serial ${input.receivedSerial} is not the DOA unit ${row.device_serial}` });
        }
        const received = row.receipt_confirmed_at !== null;
        return {
          writes: [
            ...statusWrites(trx, row, received ? 'closed' : row.status, stamp.at, { unit_returned_at: new Date(stamp.at), unit_return_note: input.note }),
            audit(trx, row, 'unit-return', { stamp, action: 'doa_claim.unit_returned', comment: input.note, data: { receivedSerial: input.receivedSerial } }),
          ],
          result: undefined,
        };
      });
    },

    /** The offer of an RMA repair declined by the customer, or lapsed unanswered (the customer is told): closed. */
    async recordDoaConversionAnswer(input: { caseId: string; stamp: ActorStamp; answer: 'declined' | 'lapsed' }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: `conversion ${input.answer}`, actorRole: stamp.role, key: 'conversion' }, async (row, trx) => ({
        writes: [
          ...statusWrites(trx, row, 'closed', stamp.at, { conversion: input.answer, conversion_answered_at: new Date(stamp.at) }),
          audit(trx, row, 'conversion', { stamp, action: `doa_claim.conversion_${input.answer}` }),
        ],
        emails: input.answer === 'lapsed' ? [{ key: 'conversion-lapsed', content: { template: 'doa_conversion_lapsed', params: claimParams(row) } }] : [],
        result: undefined,
      }));
    },

    /**
     * The customer accepts the RMA repair: an RMA case for the unit, linked to this claim (its number
     * comes from a sequence outside the transaction). A retry after the commit finds the RMA recorded.
     */
    async convertDoaClaimToRma(input: { caseId: string; stamp: ActorStamp }): Promise<{ caseId: string; caseNumber: string }> {
      const { stamp } = input;
      const recorded = async (executor: DbExecutor) => {
        const row = await doaClaimRow(executor, input.caseId);
        if (row.rma_case_id === null) return { row, rma: null };
        const rma = await executor.selectFrom('cases').select(['id', 'number']).where('id', '=', row.rma_case_id).executeTakeFirstOrThrow();
        return { row, rma: { caseId: rma.id, caseNumber: rma.number } };
      };
      const before = await recorded(db);
      if (before.rma) return before.rma;
      const number = await nextCaseNumber(db, 'RMA', Number(shanghaiDate(Date.parse(stamp.at)).slice(0, 4)));
      const result = await db.transaction().execute(async (trx) => {
        await trx.selectFrom('doa_claims').select('case_id').where('case_id', '=', input.caseId).forUpdate().executeTakeFirstOrThrow();
        const { row, rma } = await recorded(trx);
        if (rma) return rma;
        const opened = await insertRmaRepairCase(trx, number, {
          origin: 'doa_conversion',
          customerId: row.customer_id,
          contactId: row.contact_id,
          originCaseId: row.case_id,
          parts: [{ deviceId: row.device_id, faultDescription: row.symptoms }],
          openedBy: stamp.actor,
          openedByRole: stamp.role,
          openedAt: new Date(stamp.at),
        });
        for (const write of [
          ...statusWrites(trx, row, 'converted', stamp.at, { conversion: 'accepted', conversion_answered_at: new Date(stamp.at), rma_case_id: opened.caseId }),
          audit(trx, row, 'conversion', { stamp, action: 'doa_claim.conversion_accepted', data: { rmaCaseNumber: opened.caseNumber } }),
        ]) {
          await write.execute();
        }
        return { caseId: opened.caseId, caseNumber: opened.caseNumber };
      });
      logger.info({ caseNumber: before.row.case_number, step: 'converted to RMA', actorRole: stamp.role, rmaCaseNumber: result.caseNumber }, `doa claim ${before.row.case_number}: converted to RMA`);
      return result;
    },
  };
}
