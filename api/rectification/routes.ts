import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import {
  RECTIFICATION_CAMPAIGN_STATUSES,
  RECTIFICATION_RAISERS,
  confirmRectificationDevicesUpdate,
  customerWorkflowId,
  declineRectificationCustomerUpdate,
} from '../../workflows/rectification/definitions';
import { submitDocumentVersionUpdate, signOffWorkflowId } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { actorStamp, executeProcessUpdate } from '../shared/process-updates';
import { isoDateField, optionalNote, requiredText } from '../shared/schemas';
import { registerCustomerCalendarRoutes } from './customer-calendar';
import { listRectificationCampaigns, loadRectificationCampaign, rectificationCampaignListItemSchema, rectificationCampaignSchema } from './read-model';
import { campaignRegistrationSchema, registerRectificationCampaign } from './registration';

export interface RectificationRouteDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  clock: Clock;
  logger?: Pick<Logger, 'warn'>;
}

const ANY_USER: readonly UserRole[] = [];
/** Who records what the customer said (a refusal with its proof, devices they applied the fix on). */
const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const campaignParams = z.object({ number: z.string().regex(/^RC-\d{4}-\d{6}$/, 'must be a campaign number such as RC-2026-000007') });
const customerParams = campaignParams.extend({ customerId: z.uuid() });
const transitionErrors = [404, 409, 422];

/** The campaign's customer as a 404 unless they are in it. */
async function campaignCustomer(db: Db, caseNumber: string, customerId: string) {
  const row = await db
    .selectFrom('rectification_customers as rc')
    .innerJoin('rectification_campaigns as r', 'r.case_id', 'rc.campaign_case_id')
    .select(['r.case_id', 'r.case_number', 'r.customers_at_once', 'rc.customer_id', 'rc.status'])
    .where('r.case_number', '=', caseNumber)
    .where('rc.customer_id', '=', customerId)
    .executeTakeFirst();
  if (!row) {
    await loadRectificationCampaign(db, caseNumber);
    throw ApiError.notFound('customer of this campaign', customerId);
  }
  if (row.status === 'pending') {
    throw ApiError.conflict('customer_not_started', `customer ${customerId} waits for their turn in ${caseNumber}: the campaign starts ${row.customers_at_once} customers at a time, the next as others finish`, { status: row.status });
  }
  return row;
}

/** Serials of the customer's devices in the campaign, to device ids (400 naming each unknown one). */
async function deviceIdsOf(db: Db, caseId: string, customerId: string, serials: readonly string[], field: string): Promise<string[]> {
  const rows = await db
    .selectFrom('rectification_devices as rd')
    .innerJoin('devices as d', 'd.id', 'rd.device_id')
    .select(['d.id', 'd.serial'])
    .where('rd.campaign_case_id', '=', caseId)
    .where('rd.customer_id', '=', customerId)
    .where('d.serial', 'in', serials)
    .execute();
  const bySerial = new Map(rows.map((row) => [row.serial, row.id]));
  const problems = serials.flatMap((serial, index) => (bySerial.has(serial) ? [] : [{ in: 'body' as const, field: `${field}.${index}`, message: `no device ${serial} of this customer in the campaign` }]));
  if (problems.length > 0) throw ApiError.validation(problems);
  return serials.map((serial) => bySerial.get(serial)!);
}

export function registerRectificationCampaignRoutes(routes: ApiRoutes, deps: RectificationRouteDependencies): void {
  const tag = 'Batch rectification';
  const response = { schema: rectificationCampaignSchema };
  routes
    .add({
      method: 'post', path: '/rectification-campaigns', tag,
      summary: 'Raise a campaign from a product warning (R&D or supply chain): the installed base is computed per customer, site and device, manpower and materials totalled; the plan goes to management approval',
      access: { roles: RECTIFICATION_RAISERS },
      body: campaignRegistrationSchema, response: { status: 201, schema: rectificationCampaignSchema }, errors: [400, 422],
      handler: async ({ body, actor }) => registerRectificationCampaign(deps, body, { ...actorStamp(actor!, deps.clock), userId: actor!.id }),
    })
    .add({
      method: 'get', path: '/rectification-campaigns', tag, summary: 'Campaigns, newest first, with their progress (devices rectified, declined, failed, open and % done, counted now)', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ status: z.enum(RECTIFICATION_CAMPAIGN_STATUSES).optional() }),
      response: { schema: pageOf(rectificationCampaignListItemSchema) },
      handler: async ({ query }) => ({ ...(await listRectificationCampaigns(deps.db, query)), limit: query.limit, offset: query.offset }),
    })
    .add({
      method: 'get', path: '/rectification-campaigns/:number', tag,
      summary: 'One campaign: the warning, solution, totals, the plan’s approval, and its progress now (devices and sites by state, per customer), counted from the database',
      access: { roles: ANY_USER }, params: campaignParams, response, errors: [404],
      handler: async ({ params }) => loadRectificationCampaign(deps.db, params.number),
    })
    .add({
      method: 'post', path: '/rectification-campaigns/:number/plan', tag,
      summary: 'Submit the plan for management approval (a new version after a rejection): the rollout period and summary, with the computed totals; a manager decides it at POST /documents/{id}/decisions',
      access: { roles: RECTIFICATION_RAISERS }, params: campaignParams,
      body: z.object({ summary: requiredText(4000), startsOn: isoDateField(), endsOn: isoDateField(), reason: optionalNote(2000) }).refine((body) => body.endsOn >= body.startsOn, { message: 'must not be before startsOn', path: ['endsOn'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const campaign = await loadRectificationCampaign(deps.db, params.number);
        await executeProcessUpdate(deps.temporal, signOffWorkflowId(campaign.plan.id), submitDocumentVersionUpdate, {
          ...actorStamp(actor!, deps.clock),
          userId: actor!.id,
          content: {
            summary: body.summary,
            startsOn: body.startsOn,
            endsOn: body.endsOn,
            totals: { devices: campaign.devices, sites: campaign.sites, customers: campaign.customers, hours: campaign.totals.hours, parts: campaign.totals.parts },
          },
          reason: body.reason,
        });
        return loadRectificationCampaign(deps.db, params.number);
      },
    })
    .add({
      method: 'post', path: '/rectification-campaigns/:number/customers/:customerId/decline', tag,
      summary: "Record the customer's refusal with their proof (evidence files uploaded to the campaign's case): their devices not rectified are declined and the customer closes as declined",
      access: { roles: DESK }, params: customerParams,
      body: z.object({ reason: requiredText(2000), evidenceIds: z.array(z.uuid()).min(1).max(30).meta({ description: "The customer's notice, fax or memo: evidence files of the campaign (POST /cases/{caseNumber}/evidence)" }) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const customer = await campaignCustomer(deps.db, params.number, params.customerId);
        await executeProcessUpdate(deps.temporal, customerWorkflowId(customer.case_number, customer.customer_id), declineRectificationCustomerUpdate, {
          ...actorStamp(actor!, deps.clock),
          reason: body.reason,
          evidenceIds: body.evidenceIds,
        });
        return loadRectificationCampaign(deps.db, params.number);
      },
    })
    .add({
      method: 'post', path: '/rectification-campaigns/:number/customers/:customerId/devices', tag,
      summary: 'Software fix, as the customer told the desk: devices they applied it on (rectified), or devices for which they ask an engineer (a site visit for their sites)',
      access: { roles: DESK }, params: customerParams,
      body: z.object({ serials: z.array(requiredText(64)).min(1).max(1_000), outcome: z.enum(['applied', 'engineer_requested']), note: optionalNote(2000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const customer = await campaignCustomer(deps.db, params.number, params.customerId);
        const deviceIds = await deviceIdsOf(deps.db, customer.case_id, customer.customer_id, body.serials, 'serials');
        await executeProcessUpdate(deps.temporal, customerWorkflowId(customer.case_number, customer.customer_id), confirmRectificationDevicesUpdate, {
          ...actorStamp(actor!, deps.clock),
          deviceIds,
          outcome: body.outcome,
          note: body.note,
        });
        return loadRectificationCampaign(deps.db, params.number);
      },
    });
  registerCustomerCalendarRoutes(routes, deps);
}

export { deviceIdsOf };
