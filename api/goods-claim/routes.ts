import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { UserRole } from '../../db/schema';
import {
  GOODS_CLAIM_KINDS,
  GOODS_CLAIM_STATUSES,
  goodsClaimWorkflowId,
  provideGoodsClaimIdentifiersUpdate,
  resolveGoodsClaimUpdate,
  type GoodsClaimState,
  type ResolutionInput,
} from '../../workflows/goods-claim/definitions';
import type { ActorStamp } from '../../workflows/shared/definitions';
import type { Actor } from '../auth';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { executeProcessUpdate } from '../shared/process-updates';
import { INT4_MAX, boundedInteger, optionalNote, requiredText } from '../shared/schemas';
import { goodsClaimSchema, loadGoodsClaim, type GoodsClaimDto } from './read-model';
import { identifiersSchema, registerGoodsClaim, registrationSchema, type GoodsClaimDependencies } from './registration';

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const ANY_USER: readonly UserRole[] = [];

export const claimParams = z.object({ claimNumber: z.string().regex(/^GC-\d{4}-\d{6}$/, 'must look like GC-2026-000042') });

/** At least one identifier: an empty change is refused naming the body. */
export const identifiersChangeSchema = identifiersSchema.refine((identifiers) => Object.values(identifiers).some((value) => value !== undefined), {
  message: 'give at least one identifier: packingListNumber, boxNumber, materialCode, quantity or contractAndOrderNumber',
});

export const resolutionSchema = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('replacement'),
    carrier: requiredText(200),
    trackingNumber: requiredText(100),
    note: optionalNote(2000),
  }),
  z.object({
    outcome: z.literal('credit'),
    amountCents: boundedInteger(1, INT4_MAX).meta({ description: 'The credit in fen (positive); the invoice line is its negative' }),
    note: optionalNote(2000),
  }),
  z.object({
    outcome: z.literal('refusal'),
    reason: requiredText(2000),
  }),
]);

export function stamp(actor: Actor, clock: Clock): ActorStamp {
  return { actor: actor.name, role: actor.role, at: clock.now().toISOString() };
}

/** A step on a claim: 404 for an unknown claim, then the workflow's Update (409 when it does not fit the claim's status). */
export async function updateGoodsClaim<Arg>(deps: GoodsClaimDependencies, claimNumber: string, definition: UpdateDefinition<GoodsClaimState, [Arg]>, arg: Arg): Promise<GoodsClaimDto> {
  await loadGoodsClaim(deps.db, claimNumber, false);
  await executeProcessUpdate(deps.temporal, goodsClaimWorkflowId(claimNumber), definition, arg);
  return loadGoodsClaim(deps.db, claimNumber);
}

export function registerGoodsClaimRoutes(routes: ApiRoutes, deps: GoodsClaimDependencies & { logger?: Pick<Logger, 'warn'> }): void {
  const tag = 'Goods claims';
  const response = { schema: goodsClaimSchema };
  const transitionErrors = [404, 409, 422];

  routes
    .add({
      method: 'post', path: '/goods-claims', tag,
      summary: 'Register a goods claim (transport damage within 14 days of arrival, wrong/missing/extra goods within 30); refused outside its window or for a device another company sold. Missing evidence is requested from the customer by email',
      access: { roles: DESK },
      body: registrationSchema, response: { status: 201, schema: goodsClaimSchema }, errors: [400, 422],
      handler: async ({ body, actor }) => registerGoodsClaim(deps, body, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'get', path: '/goods-claims', tag, summary: 'List goods claims by status, customer and kind', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ status: z.enum(GOODS_CLAIM_STATUSES).optional(), customerId: z.uuid().optional(), kind: z.enum(GOODS_CLAIM_KINDS).optional() }),
      response: { schema: pageOf(goodsClaimSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('goods_claims').select('claim_number');
        if (query.status) select = select.where('status', '=', query.status);
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        if (query.kind) select = select.where('kind', '=', query.kind);
        const [numbers, count] = await Promise.all([
          select.orderBy('claim_number', 'desc').limit(query.limit).offset(query.offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        const items = await Promise.all(numbers.map((row) => loadGoodsClaim(deps.db, row.claim_number, false)));
        return { items, total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/goods-claims/:claimNumber', tag,
      summary: 'One goods claim: status, kind, window (last day, day of the claim), required and missing evidence, evidence files, decision, timeline', access: { roles: ANY_USER },
      params: claimParams, response, errors: [404],
      handler: async ({ params }) => loadGoodsClaim(deps.db, params.claimNumber),
    })
    .add({
      method: 'post', path: '/goods-claims/:claimNumber/identifiers', tag,
      summary: 'Record identifiers the claim lacks (packing list, box, material code, quantity, contract and order); the evidence is checked again. Files go to POST /cases/{caseNumber}/evidence',
      access: { roles: DESK },
      params: claimParams, body: identifiersChangeSchema, response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => updateGoodsClaim(deps, params.claimNumber, provideGoodsClaimIdentifiersUpdate, { ...stamp(actor!, deps.clock), identifiers: body }),
    })
    .add({
      method: 'post', path: '/goods-claims/:claimNumber/resolution', tag,
      summary: 'Resolve a complete claim: replacement shipped (carrier, tracking), credit (an invoice line in the next billing cycle) or refusal with a reason; the customer is emailed',
      access: { roles: DESK },
      params: claimParams, body: resolutionSchema, response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const by = stamp(actor!, deps.clock);
        const resolution: ResolutionInput =
          body.outcome === 'replacement'
            ? { ...by, outcome: 'replacement', carrier: body.carrier, trackingNumber: body.trackingNumber, note: body.note }
            : body.outcome === 'credit'
              ? { ...by, outcome: 'credit', amountCents: body.amountCents, note: body.note }
              : { ...by, outcome: 'refusal', reason: body.reason };
        return updateGoodsClaim(deps, params.claimNumber, resolveGoodsClaimUpdate, resolution);
      },
    });
}
