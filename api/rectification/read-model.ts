// The read model of a rectification campaign: its plan and totals, and its progress counted by SQL over
// rectification_devices (devices and sites by state, per customer), readable at any moment.
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db';
import {
  RECTIFICATION_CAMPAIGN_STATUSES,
  RECTIFICATION_CUSTOMER_STATUSES,
  RECTIFICATION_DEFECT_TYPES,
  RECTIFICATION_DEVICE_STATUSES,
  type RectificationDeviceStatus,
} from '../../workflows/rectification/definitions';
import { SIGN_OFF_STATUSES, SIGN_OFF_STEPS } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import { loadDocument } from '../sign-off/read-model';

/**
 * A site's state, from its campaign devices: `completed` every one rectified or declined; `failed`
 * one failed and waits for its rescheduled attempt; `site_work` a visit is under way; `awaiting` none yet.
 */
export const RECTIFICATION_SITE_STATES = ['awaiting', 'site_work', 'failed', 'completed'] as const;

const partSchema = z.object({ productCode: z.string(), quantity: z.number().int() });
const deviceCounts = z.object(Object.fromEntries(RECTIFICATION_DEVICE_STATUSES.map((status) => [status, z.number().int()])) as Record<RectificationDeviceStatus, z.ZodNumber>);
const siteCounts = z.object(Object.fromEntries(RECTIFICATION_SITE_STATES.map((state) => [state, z.number().int()])) as Record<(typeof RECTIFICATION_SITE_STATES)[number], z.ZodNumber>);

export const solutionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('software'), version: z.string(), patch: z.string().nullable(), guide: z.string(), instructions: z.string() }),
  z.object({ kind: z.literal('hardware'), parts: z.array(partSchema), instructions: z.string() }),
]);

const documentRef = z.object({ id: z.uuid(), status: z.enum(SIGN_OFF_STATUSES), currentVersion: z.number().int(), waitingFor: z.enum(SIGN_OFF_STEPS).nullable() });

export const rectificationCampaignSummarySchema = z
  .object({
    caseNumber: z.string(),
    caseId: z.uuid(),
    title: z.string(),
    status: z.enum(RECTIFICATION_CAMPAIGN_STATUSES),
    defectType: z.enum(RECTIFICATION_DEFECT_TYPES),
    solutionKind: z.enum(['software', 'hardware']),
    highRisk: z.boolean(),
    devices: z.number().int(),
    sites: z.number().int(),
    customers: z.number().int(),
    createdAt: z.string(),
    approvedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'RectificationCampaignSummary' });

export const rectificationCampaignSchema = rectificationCampaignSummarySchema
  .extend({
    workflowId: z.string(),
    description: z.string(),
    affected: z.object({ productCodes: z.array(z.string()), serials: z.array(z.string()), serialRanges: z.array(z.object({ from: z.string(), to: z.string() })) }),
    solution: solutionSchema,
    effort: z.object({ hoursPerDevice: z.number(), partsPerDevice: z.array(partSchema) }),
    totals: z.object({ hours: z.number(), parts: z.array(partSchema) }).meta({ description: 'Manpower and materials of the whole installed base' }),
    raised: z.object({ by: z.string(), role: z.string() }),
    plan: documentRef.meta({ description: "The plan's sign-off: management approves it (manager step)" }),
    rollout: z.object({ customersAtOnce: z.number().int(), historyLimit: z.number().int() }),
    progress: z.object({
      devices: deviceCounts,
      sites: siteCounts,
      customers: z.object(Object.fromEntries(RECTIFICATION_CUSTOMER_STATUSES.map((status) => [status, z.number().int()])) as Record<(typeof RECTIFICATION_CUSTOMER_STATUSES)[number], z.ZodNumber>),
    }),
    perCustomer: z.array(
      z.object({
        customerId: z.uuid(),
        customerName: z.string(),
        status: z.enum(RECTIFICATION_CUSTOMER_STATUSES),
        agreementDocumentId: z.uuid().nullable(),
        declined: z.object({ at: z.string(), by: z.string(), reason: z.string(), evidenceIds: z.array(z.uuid()) }).nullable(),
        devices: deviceCounts,
        sites: siteCounts,
      }),
    ),
  })
  .meta({ id: 'RectificationCampaign' });
export type RectificationCampaignDto = z.input<typeof rectificationCampaignSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
const zeroDevices = () => Object.fromEntries(RECTIFICATION_DEVICE_STATUSES.map((status) => [status, 0])) as Record<RectificationDeviceStatus, number>;
const zeroSites = () => Object.fromEntries(RECTIFICATION_SITE_STATES.map((state) => [state, 0])) as Record<(typeof RECTIFICATION_SITE_STATES)[number], number>;

type SummaryRow = {
  case_id: string;
  case_number: string;
  title: string;
  status: (typeof RECTIFICATION_CAMPAIGN_STATUSES)[number];
  defect_type: (typeof RECTIFICATION_DEFECT_TYPES)[number];
  solution_kind: 'software' | 'hardware';
  high_risk: boolean;
  device_count: number;
  site_count: number;
  customer_count: number;
  created_at: Date;
  approved_at: Date | null;
  completed_at: Date | null;
};
const toSummary = (row: SummaryRow) => ({
  caseNumber: row.case_number,
  caseId: row.case_id,
  title: row.title,
  status: row.status,
  defectType: row.defect_type,
  solutionKind: row.solution_kind,
  highRisk: row.high_risk,
  devices: row.device_count,
  sites: row.site_count,
  customers: row.customer_count,
  createdAt: iso(row.created_at)!,
  approvedAt: iso(row.approved_at),
  completedAt: iso(row.completed_at),
});

/** A campaign in the list: its progress first (devices by outcome, counted now), then its summary. */
export const rectificationCampaignListItemSchema = z
  .object({
    caseNumber: z.string(),
    title: z.string(),
    status: z.enum(RECTIFICATION_CAMPAIGN_STATUSES),
    percentDone: z.number().int().meta({ description: 'Devices rectified or declined, in % of the installed base (rounded down)' }),
    devicesRectified: z.number().int(),
    devicesDeclined: z.number().int(),
    devicesFailed: z.number().int().meta({ description: 'Failed and waiting for another attempt' }),
    devicesOpen: z.number().int().meta({ description: 'Neither rectified, declined nor failed' }),
  })
  .extend(rectificationCampaignSummarySchema.omit({ caseNumber: true, title: true, status: true }).shape)
  .meta({ id: 'RectificationCampaignListItem' });

export async function listRectificationCampaigns(
  db: Db,
  filter: { status?: (typeof RECTIFICATION_CAMPAIGN_STATUSES)[number] | undefined; limit: number; offset: number },
): Promise<{ items: z.input<typeof rectificationCampaignListItemSchema>[]; total: number }> {
  let query = db.selectFrom('rectification_campaigns');
  if (filter.status) query = query.where('status', '=', filter.status);
  const [rows, count] = await Promise.all([
    query
      .select(['case_id', 'case_number', 'title', 'status', 'defect_type', 'solution_kind', 'high_risk', 'device_count', 'site_count', 'customer_count', 'created_at', 'approved_at', 'completed_at'])
      .orderBy('created_at', 'desc')
      .orderBy('case_number', 'desc')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute(),
    query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  // One grouped count over the page's campaigns' devices.
  const counts = rows.length === 0
    ? []
    : await db
        .selectFrom('rectification_devices')
        .select(['campaign_case_id', 'status', (eb) => eb.fn.countAll<string>().as('count')])
        .where('campaign_case_id', 'in', rows.map((row) => row.case_id))
        .groupBy(['campaign_case_id', 'status'])
        .execute();
  const items = rows.map((row) => {
    const devices = zeroDevices();
    for (const count of counts) if (count.campaign_case_id === row.case_id) devices[count.status] += Number(count.count);
    const total = Object.values(devices).reduce((sum, value) => sum + value, 0);
    const { caseNumber, title, status, ...summary } = toSummary(row);
    return {
      caseNumber,
      title,
      status,
      percentDone: total === 0 ? 0 : Math.floor(((devices.rectified + devices.declined) * 100) / total),
      devicesRectified: devices.rectified,
      devicesDeclined: devices.declined,
      devicesFailed: devices.failed,
      devicesOpen: total - devices.rectified - devices.declined - devices.failed,
      ...summary,
    };
  });
  return { items, total: Number(count.total) };
}

export async function loadRectificationCampaign(db: Db, caseNumber: string): Promise<RectificationCampaignDto> {
  const row = await db.selectFrom('rectification_campaigns').selectAll().where('case_number', '=', caseNumber).executeTakeFirst();
  if (!row) throw ApiError.notFound('rectification campaign', caseNumber);
  const [plan, customers, deviceRows, siteRows] = await Promise.all([
    loadDocument(db, row.plan_document_id),
    db
      .selectFrom('rectification_customers as rc')
      .innerJoin('customers as c', 'c.id', 'rc.customer_id')
      .select(['rc.customer_id', 'c.name', 'rc.status', 'rc.agreement_document_id', 'rc.declined_at', 'rc.declined_by', 'rc.decline_reason', 'rc.decline_evidence_ids'])
      .where('rc.campaign_case_id', '=', row.case_id)
      .orderBy('c.name')
      .orderBy('rc.customer_id')
      .execute(),
    db
      .selectFrom('rectification_devices')
      .select(['customer_id', 'status', (eb) => eb.fn.countAll<string>().as('count')])
      .where('campaign_case_id', '=', row.case_id)
      .groupBy(['customer_id', 'status'])
      .execute(),
    // One state per site, from its devices (see RECTIFICATION_SITE_STATES).
    sql<{ customer_id: string; state: (typeof RECTIFICATION_SITE_STATES)[number]; count: string }>`
      select customer_id, state, count(*)::text as count from (
        select customer_id, site_id,
          case when bool_and(status in ('rectified', 'declined')) then 'completed'
               when bool_or(status = 'failed') then 'failed'
               when bool_or(status = 'site_work') then 'site_work'
               else 'awaiting' end as state
        from rectification_devices where campaign_case_id = ${row.case_id} and site_id is not null
        group by customer_id, site_id) s
      group by customer_id, state`.execute(db),
  ]);
  const devices = zeroDevices();
  const sites = zeroSites();
  const customerStatuses = Object.fromEntries(RECTIFICATION_CUSTOMER_STATUSES.map((status) => [status, 0])) as Record<(typeof RECTIFICATION_CUSTOMER_STATUSES)[number], number>;
  const perCustomer = new Map(customers.map((customer) => [customer.customer_id, { devices: zeroDevices(), sites: zeroSites() }]));
  for (const device of deviceRows) {
    devices[device.status] += Number(device.count);
    perCustomer.get(device.customer_id)!.devices[device.status] += Number(device.count);
  }
  for (const site of siteRows.rows) {
    sites[site.state] += Number(site.count);
    perCustomer.get(site.customer_id)!.sites[site.state] += Number(site.count);
  }
  for (const customer of customers) customerStatuses[customer.status] += 1;
  return {
    ...toSummary(row),
    workflowId: `rectification/${row.case_number}`,
    description: row.description,
    affected: row.affected,
    solution: row.solution,
    effort: { hoursPerDevice: Number(row.effort_hours_per_device), partsPerDevice: row.effort_parts_per_device },
    totals: { hours: Number(row.total_hours), parts: row.total_parts },
    raised: { by: row.raised_by, role: row.raised_by_role },
    plan: { id: plan.id, status: plan.status, currentVersion: plan.currentVersion, waitingFor: plan.waitingFor },
    rollout: { customersAtOnce: row.customers_at_once, historyLimit: row.history_limit },
    progress: { devices, sites, customers: customerStatuses },
    perCustomer: customers.map((customer) => ({
      customerId: customer.customer_id,
      customerName: customer.name,
      status: customer.status,
      agreementDocumentId: customer.agreement_document_id,
      declined:
        customer.declined_at && customer.declined_by && customer.decline_reason
          ? { at: iso(customer.declined_at)!, by: customer.declined_by, reason: customer.decline_reason, evidenceIds: customer.decline_evidence_ids ?? [] }
          : null,
      ...perCustomer.get(customer.customer_id)!,
    })),
  };
}
