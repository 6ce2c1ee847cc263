import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { GOODS_CLAIM_KINDS, goodsClaimWorkflowId, type GoodsClaimInput } from '../../workflows/goods-claim/definitions';
import { claimWindow } from '../../workflows/rules/goods';
import { shanghaiDate } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import { ApiError } from '../errors';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
import { INT4_MAX, boundedInteger, isoDateField, isoInstantField, requiredText } from '../shared/schemas';
import { loadGoodsClaim, type GoodsClaimDto } from './read-model';

export interface GoodsClaimDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  clock: Clock;
  links: SignedLinks;
}

/** The identifiers a claim records (CLAIM_EVIDENCE asks for them by kind); each may come later. */
export const identifiersSchema = z.object({
  packingListNumber: requiredText(100).optional().meta({ description: 'Packing list number (装箱单号)' }),
  boxNumber: requiredText(100).optional().meta({ description: 'The damaged or lost box, or the box of the wrong goods (箱号)' }),
  materialCode: requiredText(100).optional().meta({ description: 'Material code (物料编码)' }),
  quantity: boundedInteger(1, INT4_MAX).optional().meta({ description: 'Quantity damaged, missing, wrong or extra' }),
  contractAndOrderNumber: requiredText(200).optional().meta({ description: 'Our sales contract and order number (wrong, missing or extra goods)' }),
});

export const registrationSchema = z.object({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: 'The end user contact: gets the emails and the link to the claim page' }),
  kind: z.enum(GOODS_CLAIM_KINDS),
  arrivedOn: isoDateField().meta({ description: 'The day the goods arrived on site (China date): day 0 of the claim window' }),
  claimedAt: isoInstantField().optional().meta({ description: 'When the end user claimed (e.g. by phone); now when absent. Decides the day of the claim' }),
  carriedByUs: z.boolean().optional().meta({ description: 'Transport damage: whether our company carried the goods (required; a claim for goods we did not carry is refused)' }),
  deviceSerials: z.array(requiredText(64)).min(1).max(50).meta({ description: "The claimed devices' serials, each in the customer's installed base and sold by us" }),
  identifiers: identifiersSchema.default({}),
  description: requiredText(4000).meta({ description: 'What is damaged, missing, wrong or extra' }),
});
export type GoodsClaimRegistration = z.output<typeof registrationSchema>;

/** How a goods claim starts its workflow: from registration and from the recovery at worker start-up. */
export const goodsClaimProcess: CaseProcess<GoodsClaimInput> = {
  kind: 'goods_claim',
  workflowType: 'goodsClaimWorkflow',
  startStatuses: ['registered'],
  async loadInput(db, caseRow) {
    const row = await db.selectFrom('goods_claims').select(['claim_number', 'window_deadline_at']).where('case_id', '=', caseRow.id).executeTakeFirst();
    return row && { caseId: caseRow.id, claimNumber: row.claim_number, deadlineAt: row.window_deadline_at.toISOString() };
  },
};

const FIVE_MINUTES_MS = 5 * 60_000;

/** Customer, contact and devices (in the installed base, sold by us), and the claim's window by the rules. */
async function checkRegistration(deps: GoodsClaimDependencies, body: GoodsClaimRegistration, claimedAt: string) {
  const customer = await deps.db.selectFrom('customers').select('id').where('id', '=', body.customerId).executeTakeFirst();
  if (!customer) throw ApiError.validation([{ in: 'body', field: 'customerId', message: `no customer with id ${body.customerId}` }]);
  const contact = await deps.db.selectFrom('contacts').select('id').where('id', '=', body.contactId).where('customer_id', '=', customer.id).executeTakeFirst();
  if (!contact) throw ApiError.validation([{ in: 'body', field: 'contactId', message: 'no such contact for this customer' }]);

  const serials = [...new Set(body.deviceSerials)];
  const devices = await deps.db.selectFrom('devices').select(['id', 'serial', 'customer_id', 'sold_by']).where('serial', 'in', serials).execute();
  for (const [index, serial] of body.deviceSerials.entries()) {
    if (body.deviceSerials.indexOf(serial) !== index) throw ApiError.validation([{ in: 'body', field: `deviceSerials.${index}`, message: `lists ${serial} a second time` }]);
    const device = devices.find((d) => d.serial === serial);
    if (!device || device.customer_id !== customer.id) {
      throw ApiError.validation([{ in: 'body', field: `deviceSerials.${index}`, message: `no device ${serial} in this customer's installed base` }]);
    }
    if (device.sold_by !== null) {
      throw new ApiError(422, 'sold_by_another_company', `device ${serial} was sold by ${device.sold_by}: whoever sold it is responsible, so the goods claim goes to ${device.sold_by}`, [
        { in: 'body', field: `deviceSerials.${index}`, message: `was sold by ${device.sold_by}, not by us: claim with ${device.sold_by}` },
      ]);
    }
  }

  const nowMs = deps.clock.now().getTime() + FIVE_MINUTES_MS;
  if (Date.parse(claimedAt) > nowMs) throw ApiError.validation([{ in: 'body', field: 'claimedAt', message: 'is in the future' }]);
  if (Date.parse(`${body.arrivedOn}T00:00:00+08:00`) > Date.parse(claimedAt)) {
    throw ApiError.validation([{ in: 'body', field: 'arrivedOn', message: `is after the claim (${shanghaiDate(Date.parse(claimedAt))})` }]);
  }
  if (body.kind === 'transport_damage' && body.carriedByUs === undefined) {
    throw ApiError.validation([{ in: 'body', field: 'carriedByUs', message: 'is required for transport damage: did our company carry the goods?' }]);
  }
  if (body.kind === 'transport_damage' && !body.carriedByUs) {
    throw new ApiError(422, 'not_carried_by_us', 'transport damage is claimed from us only when we carried the goods; otherwise from the carrier who did', [
      { in: 'body', field: 'carriedByUs', message: 'is false: we accept transport damage claims only for goods we carried' },
    ]);
  }

  const window = claimWindow(body.kind, body.arrivedOn, claimedAt);
  if (!window.withinWindow) {
    throw new ApiError(
      422,
      'outside_claim_window',
      `${window.rule.en}: goods that arrived on ${body.arrivedOn} (day 0) could be claimed until ${window.lastDay}; this claim is on day ${window.dayOfClaim}`,
      [{ in: 'body', field: 'arrivedOn', message: `${window.rule.en}; the last day for goods that arrived on ${body.arrivedOn} was ${window.lastDay} (the claim is on day ${window.dayOfClaim})` }],
    );
  }
  return { devices: body.deviceSerials.map((serial) => devices.find((d) => d.serial === serial)!), window };
}

/**
 * Registers the claim inside its window, then starts its workflow: the number comes from a sequence;
 * the case, the claim and the audit entry commit together; only then does the workflow start, under
 * the claim's deterministic id, idempotently (the worker starts one that never started).
 */
export async function registerGoodsClaim(deps: GoodsClaimDependencies & { logger?: Pick<Logger, 'warn'> }, body: GoodsClaimRegistration, by: ActorStamp): Promise<GoodsClaimDto> {
  const claimedAt = body.claimedAt ?? by.at;
  const { devices, window } = await checkRegistration(deps, body, claimedAt);
  const registeredAt = new Date(by.at);
  const number = await nextCaseNumber(deps.db, 'GC', Number(shanghaiDate(registeredAt.getTime()).slice(0, 4)));
  const workflowId = goodsClaimWorkflowId(number);
  const caseId = await deps.db.transaction().execute(async (trx) => {
    const caseId = await insertCase(trx, { kind: 'goods_claim', number, status: 'registered', customerId: body.customerId, deviceId: devices[0]!.id, workflowId, at: registeredAt });
    await trx
      .insertInto('goods_claims')
      .values({
        case_id: caseId,
        claim_number: number,
        customer_id: body.customerId,
        contact_id: body.contactId,
        kind: body.kind,
        status: 'registered',
        arrived_on: body.arrivedOn,
        claimed_at: new Date(claimedAt),
        window_last_day: window.lastDay,
        window_deadline_at: new Date(window.deadlineAt),
        day_of_claim: window.dayOfClaim,
        carried_by_us: body.kind === 'transport_damage' ? (body.carriedByUs ?? null) : null,
        device_serials: body.deviceSerials,
        identifiers: JSON.stringify(body.identifiers),
        description: body.description,
        registered_by: by.actor,
        registered_by_role: by.role,
        created_at: registeredAt,
        updated_at: registeredAt,
      })
      .execute();
    await appendAuditEvent(trx, {
      caseId,
      occurredAt: by.at,
      actor: by.actor,
      actorRole: by.role,
      action: 'goods_claim.registered',
      comment: body.description,
      data: { kind: body.kind, arrivedOn: body.arrivedOn, claimedAt, dayOfClaim: window.dayOfClaim, lastDay: window.lastDay, deviceSerials: body.deviceSerials, identifiers: body.identifiers },
      idempotencyKey: `${number}/registered`,
    });
    return caseId;
  });
  const input: GoodsClaimInput = { caseId, claimNumber: number, deadlineAt: new Date(window.deadlineAt).toISOString() };
  await startRegisteredCase(deps, goodsClaimProcess, { caseNumber: number, workflowId: workflowId, input: input });
  return loadGoodsClaim(deps.db, number);
}
