import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { UserRole } from '../../db/schema';
import {
  RMA_DISCREPANCY_RESOLUTIONS,
  RMA_REPAIR_ORIGINS,
  RMA_REPAIR_OUTCOMES,
  RMA_REPAIR_STATUSES,
  confirmRmaDeliveryUpdate,
  recordRmaOutcomeUpdate,
  recordRmaReceiptUpdate,
  resolveRmaDiscrepancyUpdate,
  rmaRepairWorkflowId,
  shipRmaBackUpdate,
  type RmaRepairState,
} from '../../workflows/rma-repair/definitions';
import { ApiError } from '../errors';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { actorStamp as stamp, updateCase } from '../shared/process-updates';
import { boundedInteger, isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { loadRmaRepair, rmaRepairSchema, type RmaRepairDto } from './read-model';
import { MAX_RMA_PARTS, openRmaRepairAtDesk, openingSchema, type RmaRepairDependencies } from './registration';

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const ENGINEER: readonly UserRole[] = ['engineer', 'senior_engineer'];
const ANY_USER: readonly UserRole[] = [];

const caseParams = z.object({ caseNumber: z.string().regex(/^RMA-\d{4}-\d{6}$/, 'must look like RMA-2026-000042') });
const line = boundedInteger(1, MAX_RMA_PARTS).meta({ description: 'The part line, as GET /rma-repairs/{caseNumber} lists them' });

/** An instant the caller says something happened at: not in the future (5 min of clock skew allowed); now when absent. */
function pastOrNow(clock: Clock, field: string, value: string | undefined): string {
  if (value === undefined) return clock.now().toISOString();
  if (Date.parse(value) > clock.now().getTime() + 5 * 60_000) throw ApiError.validation([{ in: 'body', field, message: 'is in the future' }]);
  return value;
}

/** Each line once in a list of parts (a second mention names its field). */
function distinctLines<T extends { line: number }>(items: T[], ctx: z.RefinementCtx): void {
  items.forEach((item, index) => {
    if (items.findIndex((other) => other.line === item.line) !== index) ctx.addIssue({ code: 'custom', message: `line ${item.line} is listed twice`, path: [index, 'line'] });
  });
}

async function update<Arg>(deps: RmaRepairDependencies, caseNumber: string, definition: UpdateDefinition<RmaRepairState, [Arg]>, arg: Arg): Promise<RmaRepairDto> {
  return updateCase(deps.temporal, (withTimeline) => loadRmaRepair(deps.db, caseNumber, withTimeline), rmaRepairWorkflowId(caseNumber), definition, arg);
}

export function registerRmaRepairRoutes(routes: ApiRoutes, deps: RmaRepairDependencies & { logger?: Pick<Logger, 'warn'> }): void {
  const tag = 'RMA repair';
  const response = { schema: rmaRepairSchema };
  const transitionErrors = [404, 409, 422];
  const when = isoInstantField();

  routes
    .add({
      method: 'post', path: '/rma-repairs', tag,
      summary: "Open an RMA repair: one repair record per part (device in the customer's installed base, fault description); the customer is emailed the return address and the RMA number",
      access: { roles: DESK },
      body: openingSchema, response: { status: 201, schema: rmaRepairSchema }, errors: [400],
      handler: async ({ body, actor }) => openRmaRepairAtDesk(deps, body, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'get', path: '/rma-repairs', tag, summary: 'List RMA repairs by status, customer and origin (desk, DOA conversion, spare-part return)', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ status: z.enum(RMA_REPAIR_STATUSES).optional(), customerId: z.uuid().optional(), origin: z.enum(RMA_REPAIR_ORIGINS).optional() }),
      response: { schema: pageOf(rmaRepairSchema) },
      handler: async ({ query }) => {
        // Rows written before the RMA process (no case) are not RMAs of this API.
        let select = deps.db.selectFrom('rma_repairs').where('case_number', 'is not', null);
        if (query.status) select = select.where('status', '=', query.status);
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        if (query.origin) select = select.where('origin', '=', query.origin);
        const [numbers, count] = await Promise.all([
          select.select('case_number').orderBy('case_number', 'desc').limit(query.limit).offset(query.offset).execute(),
          select.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        const items = await Promise.all(numbers.map((row) => loadRmaRepair(deps.db, row.case_number!, false)));
        return { items, total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/rma-repairs/:caseNumber', tag, summary: 'One RMA repair: status, parts with receipt, discrepancy and outcome, ship-back deadline, shipment, origin case, evidence, timeline', access: { roles: ANY_USER },
      params: caseParams, response, errors: [404],
      handler: async ({ params }) => loadRmaRepair(deps.db, params.caseNumber),
    })
    .add({
      method: 'post', path: '/rma-repairs/:caseNumber/receipt', tag,
      summary: 'Record a goods receipt: each part that arrived with the serial on it. A serial that does not match its line is recorded and holds the RMA (discrepancy); once every part is in, the ship-back deadline is set and the customer told',
      access: { roles: DESK },
      params: caseParams,
      body: z.object({
        receivedAt: when.optional().meta({ description: 'When the parcel arrived; now when absent' }),
        parts: z.array(z.object({ line, receivedSerial: requiredText(64), note: optionalNote(2000) })).min(1).max(MAX_RMA_PARTS).superRefine(distinctLines),
      }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.caseNumber, recordRmaReceiptUpdate, { ...stamp(actor!, deps.clock), receivedAt: pastOrNow(deps.clock, 'receivedAt', body.receivedAt), parts: body.parts }),
    })
    .add({
      method: 'post', path: '/rma-repairs/:caseNumber/discrepancy-resolution', tag,
      summary: 'Resolve a serial mismatch: accept the part as received (the repair goes on with it), or ask the customer for the right part (emailed; the line waits again)',
      access: { roles: DESK },
      params: caseParams,
      body: z.object({ line, resolution: z.enum(RMA_DISCREPANCY_RESOLUTIONS), comment: requiredText(2000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, resolveRmaDiscrepancyUpdate, { ...stamp(actor!, deps.clock), ...body }),
    })
    .add({
      method: 'post', path: '/rma-repairs/:caseNumber/outcome', tag,
      summary: "Record a part's repair outcome: a customer's part is repaired or replaced (ship-back once every part has one); a part for stock is repaired (restocked) or scrapped",
      access: { roles: ENGINEER },
      params: caseParams,
      body: z.object({ line, outcome: z.enum(RMA_REPAIR_OUTCOMES), note: requiredText(4000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, recordRmaOutcomeUpdate, { ...stamp(actor!, deps.clock), ...body }),
    })
    .add({
      method: 'post', path: '/rma-repairs/:caseNumber/shipment', tag,
      summary: 'Ship the parts back: carrier, tracking number and the new serial of each replaced part (it enters the installed base); each part gets the replacement warranty; the customer is emailed the receipt link',
      access: { roles: DESK },
      params: caseParams,
      body: z.object({
        carrier: requiredText(100),
        trackingNumber: requiredText(100),
        shippedAt: when.optional().meta({ description: 'When the parcel left; now when absent' }),
        replacements: z.array(z.object({ line, newSerial: requiredText(64) })).max(MAX_RMA_PARTS).superRefine(distinctLines).default([]),
      }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.caseNumber, shipRmaBackUpdate, {
          ...stamp(actor!, deps.clock),
          carrier: body.carrier,
          trackingNumber: body.trackingNumber,
          shippedAt: pastOrNow(deps.clock, 'shippedAt', body.shippedAt),
          replacements: body.replacements,
        }),
    })
    .add({
      method: 'post', path: '/rma-repairs/:caseNumber/delivery-confirmation', tag,
      summary: "Record the customer's receipt of the shipped parts for them (e.g. by phone or the carrier's proof of delivery); the customer does it on the link page",
      access: { roles: DESK },
      params: caseParams,
      body: z.object({ receivedAt: when.optional().meta({ description: 'When the customer received them; now when absent' }), note: optionalNote(2000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.caseNumber, confirmRmaDeliveryUpdate, { ...stamp(actor!, deps.clock), receivedAt: pastOrNow(deps.clock, 'receivedAt', body.receivedAt), note: body.note }),
    });
}
