// What the rectification site tests share: a campaign's rows as the campaign engineer's migration
// holds them (inserted directly: the site child is started from the test, as the customer child
// will start it), a customer with busy hours and a protected period, and the API probes.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Db } from '../../db';
import { siteWorkflowId } from '../../workflows/rectification/definitions';
import type { RectificationSiteInput } from '../../workflows/rectification/site-definitions';
import { rectificationSiteWorkflow } from '../../workflows/rectification/site-workflow';
import { createContact, createCustomer, createDevice, createProduct, uniqueTag } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Busy every weekday 08:00-20:00 China time; Sunday 00:00-06:00. */
export const BUSY_HOURS = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start_minute: 8 * 60, end_minute: 20 * 60 })).concat([{ weekday: 7, start_minute: 0, end_minute: 6 * 60 }]);

export interface SiteFixture {
  campaignCaseId: string;
  campaignNumber: string;
  customerId: string;
  siteId: string;
  contactEmail: string;
  deviceIds: string[];
  input: RectificationSiteInput;
  path: string;
}

let campaignSeq = 0;

/**
 * A campaign (its case and row) with one customer, one site and two devices at site work there;
 * the customer's busy hours and `protectedPeriods`.
 */
export async function seedSite(db: Db, options: { highRisk: boolean; protectedPeriods: { starts_on: string; ends_on: string; reason: string }[] }): Promise<SiteFixture> {
  const tag = uniqueTag();
  campaignSeq += 1;
  const campaignNumber = `RC-2026-${String(900_000 + Math.floor(Math.random() * 90_000) + campaignSeq).padStart(6, '0')}`;
  const customer = await createCustomer(db, { name: `Zhejiang Telecom ${tag}` });
  const contact = await createContact(db, customer.id, { name: 'Wang Fang', email: `wangfang-${tag}@zjtelecom.test`, locale: 'en' });
  const product = await createProduct(db, { code: `S5700-${tag}` });
  const site = await db.insertInto('sites').values({ customer_id: customer.id, name: `Hangzhou core room ${tag}`, city: 'Hangzhou', address: null, distance_km: 20 }).returning('id').executeTakeFirstOrThrow();
  const devices = await Promise.all([1, 2].map((n) => createDevice(db, { customerId: customer.id, productId: product.id, serial: `RC-SN-${tag}-${n}`, site_id: site.id })));
  const caseId = randomUUID();
  await db.insertInto('cases').values({ id: caseId, kind: 'batch_rectification', number: campaignNumber, status: 'rolling_out', customer_id: null, device_id: null, workflow_id: `rectification/${campaignNumber}` }).execute();
  const planDocumentId = randomUUID();
  await db.insertInto('documents').values({ id: planDocumentId, case_id: caseId, kind: 'rectification_plan', title: 'Rectification plan', steps: ['manager_approval'], contact_id: null, workflow_id: `document/${planDocumentId}`, created_by: 'R&D' }).execute();
  await db
    .insertInto('rectification_campaigns')
    .values({
      case_id: caseId,
      case_number: campaignNumber,
      status: 'rolling_out',
      title: 'S5700 power module batch',
      defect_type: 'component_batch',
      description: 'Capacitors of one batch age early',
      affected: JSON.stringify({ productCodes: [product.code], serials: [], serialRanges: [] }),
      solution: JSON.stringify({ kind: 'hardware', parts: [{ productCode: 'PWR-150W', quantity: 1 }], instructions: 'Swap the power module' }),
      solution_kind: 'hardware',
      effort_hours_per_device: 1.5,
      effort_parts_per_device: JSON.stringify([{ productCode: 'PWR-150W', quantity: 1 }]),
      high_risk: options.highRisk,
      device_count: 2,
      site_count: 1,
      customer_count: 1,
      total_hours: 3,
      total_parts: JSON.stringify([{ productCode: 'PWR-150W', quantity: 2 }]),
      plan_document_id: planDocumentId,
      customers_at_once: 10,
      history_limit: 1000,
      raised_by_user_id: null,
      raised_by: 'R&D',
      raised_by_role: 'rd_reviewer',
    })
    .execute();
  await db.insertInto('rectification_customers').values({ campaign_case_id: caseId, customer_id: customer.id, status: 'in_progress' }).execute();
  await db
    .insertInto('rectification_devices')
    .values(devices.map((device) => ({ campaign_case_id: caseId, device_id: device.id, customer_id: customer.id, site_id: site.id, status: 'awaiting_agreement' as const })))
    .execute();
  await db.insertInto('customer_busy_hours').values(BUSY_HOURS.map((hours) => ({ ...hours, customer_id: customer.id }))).execute();
  if (options.protectedPeriods.length > 0) await db.insertInto('customer_protected_periods').values(options.protectedPeriods.map((period) => ({ ...period, customer_id: customer.id }))).execute();
  const deviceIds = devices.map((device) => device.id);
  const input: RectificationSiteInput = {
    campaignCaseId: caseId,
    campaignNumber,
    customerId: customer.id,
    siteId: site.id,
    deviceIds,
    // No customer child in these tests: the site's signals to it are logged and the site goes on.
    parentWorkflowId: `rectification/${campaignNumber}/customer/${customer.id}`,
    highRisk: options.highRisk,
  };
  return { campaignCaseId: caseId, campaignNumber, customerId: customer.id, siteId: site.id, contactEmail: contact.email, deviceIds, input, path: `/rectification-campaigns/${campaignNumber}/sites/${site.id}` };
}

export async function startSite(h: ProcessHarness, site: SiteFixture) {
  return h.env.client.workflow.start(rectificationSiteWorkflow, { taskQueue: h.taskQueue, workflowId: siteWorkflowId(site.campaignNumber, site.siteId), args: [site.input] });
}

export const PLAN_CONTENT = {
  summary: 'Replace the power module of both switches',
  solution: "R&D solution RS-2026-17: power module PWR-150W rev. C",
  steps: ['Back up the configuration', 'Fail traffic over to the standby switch', 'Swap the power module', 'Fail traffic back and test'],
  rollback: 'Put the old module back and fail traffic back',
};

export function siteProbes(h: ProcessHarness, site: SiteFixture) {
  const as = (role: 'manager' | 'service_desk' | 'engineer' | 'senior_engineer' | 'rd_reviewer') => bearer(h.tokens[role]);
  const get = async () => (await request(h.app).get(site.path).set(as('service_desk'))).body;
  return {
    as,
    get,
    virtualNow: async () => new Date(await h.env.currentTimeMs()).toISOString(),
    post: (step: string, role: Parameters<typeof as>[0], body: Record<string, unknown>) => request(h.app).post(`${site.path}/${step}`).set(as(role)).send(body),
    /** The customer's link to confirm slot `seq` (from the n-th slot email). */
    async slotLink(count: number): Promise<string> {
      const mails = await eventually(() => mailsTo(h.smtp, site.contactEmail, 'Please confirm the rectification slot'), (found) => found.length >= count);
      return linkPathIn(mails[count - 1]!)!;
    },
    async signatureLink(title: string, version: number): Promise<string> {
      const [mail] = await eventually(() => mailsTo(h.smtp, site.contactEmail, `Please sign: ${title} (version ${version})`), (mails) => mails.length === 1);
      return linkPathIn(mail!)!;
    },
    /** Materials picked, then the plan's first version submitted by the engineer: it waits for the technical review. */
    async pickAndWritePlan(): Promise<string> {
      expect((await request(h.app).post(`${site.path}/materials`).set(as('service_desk')).send({ materials: [{ productCode: 'PWR-150W', quantity: 2 }] })).status).toBe(200);
      const planId: string = (await eventually(get, (body) => body.plan !== null)).plan.documentId;
      expect((await request(h.app).post(`/documents/${planId}/versions`).set(as('engineer')).send({ content: PLAN_CONTENT })).status).toBe(201);
      return planId;
    },
  };
}
