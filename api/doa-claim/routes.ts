import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { UserRole } from '../../db/schema';
import {
  CHECKED_CONDITIONS,
  DOA_CLAIM_STATUSES,
  answerDoaConversionUpdate,
  approveDoaReplacementUpdate,
  checkDoaConditionsUpdate,
  confirmDoaReceiptUpdate,
  decideDoaClaimUpdate,
  doaClaimWorkflowId,
  recordDoaUnitReturnUpdate,
  shipDoaReplacementUpdate,
  type CheckedCondition,
  type DoaClaimState,
} from '../../workflows/doa-claim/definitions';
import { PACKAGING_DEFECTS } from '../../workflows/rules/goods';
import { ApiError } from '../errors';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { actorStamp, updateCase } from '../shared/process-updates';
import { optionalNote, requiredText } from '../shared/schemas';
import { DOA_WAITING_FOR, doaClaimSchema, loadDoaClaim, statusesWaitingFor, type DoaClaimDto } from './read-model';
import { doaRegistrationSchema, registerDoaClaim, type DoaClaimDependencies } from './registration';

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const MANAGER: readonly UserRole[] = ['manager'];
const ANY_USER: readonly UserRole[] = [];

const caseParams = z.object({ caseNumber: z.string().regex(/^DOA-\d{4}-\d{6}$/, 'must look like DOA-2026-000042') });

const findingsSchema = z
  .object({
    applicationFormProvided: z.boolean(),
    photosProvided: z.boolean(),
    isTestProductOrSample: z.boolean(),
    originalPackagingProvided: z.boolean(),
    packagingDefects: z.array(z.enum(PACKAGING_DEFECTS)).max(PACKAGING_DEFECTS.length).meta({ description: 'What is wrong with the original box; [] when it is intact' }),
    packingMaterialsComplete: z.boolean(),
    accessoriesCompleteAgainstPackingList: z.boolean(),
    physicalDamage: z.boolean(),
    sealsUnbroken: z.boolean(),
    labelsComplete: z.boolean(),
    originalHardwareAndPreinstalledSoftware: z.boolean(),
  } satisfies Record<CheckedCondition, z.ZodType>)
  .partial()
  .strict()
  .refine((findings) => Object.keys(findings).length > 0, { message: `name at least one condition: ${CHECKED_CONDITIONS.join(', ')}` });

/** Runs a step of a claim (404 for an unknown claim first) and answers the claim as it is after it. */
export async function update<Arg>(deps: DoaClaimDependencies, caseNumber: string, definition: UpdateDefinition<DoaClaimState, [Arg]>, arg: Arg): Promise<DoaClaimDto> {
  return updateCase(deps.temporal, (withTimeline) => loadDoaClaim(deps.db, caseNumber, withTimeline), doaClaimWorkflowId(caseNumber), definition, arg);
}

export function registerDoaClaimRoutes(routes: ApiRoutes, deps: DoaClaimDependencies & { logger?: Pick<Logger, 'warn'> }): void {
  const tag = 'DOA claims';
  const response = { schema: doaClaimSchema };
  const transitionErrors = [404, 409, 422];

  routes
    .add({
      method: 'post', path: '/doa-claims', tag, summary: "Register a DOA claim for the end user (device sold by us and in their installed base); they are emailed the link to upload the evidence", access: { roles: DESK },
      body: doaRegistrationSchema, response: { status: 201, schema: doaClaimSchema }, errors: [422],
      handler: async ({ body, actor }) => registerDoaClaim(deps, body, actorStamp(actor!, deps.clock)),
    })
    .add({
      method: 'get', path: '/doa-claims', tag, summary: 'List DOA claims by status, customer and who they wait for', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ status: z.enum(DOA_CLAIM_STATUSES).optional(), customerId: z.uuid().optional(), waitingFor: z.enum(DOA_WAITING_FOR).optional() }),
      response: { schema: pageOf(doaClaimSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('doa_claims').select('case_number');
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        if (query.status) select = select.where('status', '=', query.status);
        if (query.waitingFor) {
          select = select.where('status', 'in', statusesWaitingFor(query.waitingFor));
        }
        const [numbers, count] = await Promise.all([
          select.orderBy('case_number', 'desc').limit(query.limit).offset(query.offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        const items = await Promise.all(numbers.map((row) => loadDoaClaim(deps.db, row.case_number, false)));
        return { items, total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/doa-claims/:caseNumber', tag, summary: 'One DOA claim: status, the conditions as checked (by whom), the decision with every failed condition, replacement, conversion, evidence, timeline', access: { roles: ANY_USER },
      params: caseParams, response, errors: [404],
      handler: async ({ params }) => loadDoaClaim(deps.db, params.caseNumber),
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/conditions', tag, summary: 'Record what the evidence shows for some acceptance conditions; each is stamped with who checked it (again to correct one)', access: { roles: DESK },
      params: caseParams, body: z.object({ findings: findingsSchema, note: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, checkDoaConditionsUpdate, { ...actorStamp(actor!, deps.clock), findings: body.findings, note: body.note }),
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/decision', tag, summary: 'Decide by the rules once every condition is checked: accepted (a new unit, for the manager to approve) or rejected with every failed condition (the customer is offered an RMA repair)', access: { roles: DESK },
      params: caseParams, body: z.object({ comment: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, decideDoaClaimUpdate, { ...actorStamp(actor!, deps.clock), comment: body.comment }),
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/replacement-approval', tag, summary: 'Approve the new unit (the desk is asked to ship it) or send the claim back to assessment with a comment (technical manager)', access: { roles: MANAGER },
      params: caseParams,
      body: z
        .object({ approved: z.boolean(), comment: optionalNote(2000) })
        .refine((b) => b.approved || (b.comment ?? '').trim() !== '', { message: 'sending the claim back needs a comment', path: ['comment'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, approveDoaReplacementUpdate, { ...actorStamp(actor!, deps.clock), approved: body.approved, comment: body.comment }),
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/shipment', tag, summary: 'Ship the new unit: the customer is emailed the tracking, the receipt link and where to send the DOA unit', access: { roles: DESK },
      params: caseParams, body: z.object({ newSerial: requiredText(64), carrier: requiredText(200), trackingNumber: requiredText(200) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const taken = await deps.db.selectFrom('devices').select('serial').where('serial', '=', body.newSerial).executeTakeFirst();
        if (taken) throw new ApiError(422, 'serial_in_installed_base', `serial ${body.newSerial} is already in the installed base`, [{ in: 'body', field: 'newSerial', message: 'is already in the installed base: a new unit has a new serial' }]);
        return update(deps, params.caseNumber, shipDoaReplacementUpdate, { ...actorStamp(actor!, deps.clock), newSerial: body.newSerial, carrier: body.carrier, trackingNumber: body.trackingNumber });
      },
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/receipt', tag, summary: "Record the customer's receipt of the new unit (they usually confirm on their link page); it enters the installed base with its warranty", access: { roles: DESK },
      params: caseParams, body: z.object({}), response, errors: transitionErrors,
      handler: async ({ params, actor }) => update(deps, params.caseNumber, confirmDoaReceiptUpdate, actorStamp(actor!, deps.clock)),
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/unit-return', tag, summary: 'Record that the DOA unit came back (its serial must be the claimed one)', access: { roles: DESK },
      params: caseParams, body: z.object({ receivedSerial: requiredText(64), note: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const claim = await loadDoaClaim(deps.db, params.caseNumber, false);
        if (body.receivedSerial !== claim.device.serial) {
          throw new ApiError(422, 'serial_mismatch', `received serial ${body.receivedSerial} is not the DOA unit ${claim.device.serial}`, [{ in: 'body', field: 'receivedSerial', message: `is not the DOA unit's serial ${claim.device.serial}` }]);
        }
        return update(deps, params.caseNumber, recordDoaUnitReturnUpdate, { ...actorStamp(actor!, deps.clock), receivedSerial: body.receivedSerial, note: body.note });
      },
    })
    .add({
      method: 'post', path: '/doa-claims/:caseNumber/conversion', tag, summary: "Record the customer's answer to the offer of an RMA repair (they usually answer on their link page); accepting opens the RMA repair, linked", access: { roles: DESK },
      params: caseParams, body: z.object({ accept: z.boolean() }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, answerDoaConversionUpdate, { ...actorStamp(actor!, deps.clock), accept: body.accept }),
    });
}

