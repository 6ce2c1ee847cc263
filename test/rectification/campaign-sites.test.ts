import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { campaignWorkflowId, customerWorkflowId } from '../../workflows/rectification/definitions';
import { createUsers } from '../support/app';
import { pdfDocument } from '../support/evidence';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';
import { campaignProbes, seedCustomer, seedProduct, type SeededCustomer } from './campaign-support';

// A hardware campaign over 2 customers and 3 sites, end to end with the site child workflows (real
// worker, time-skipping test server, PostgreSQL, SMTP): one customer declines with proof before
// agreeing; the other agrees, and each of its two sites goes through its work order, plan, technical
// review, slot, the customer's approval and the implementation; one site fails once, is rescheduled and
// succeeds; both reports are signed; the campaign then completes.
const START_TIME = '2026-11-16T02:00:00Z'; // Monday 10:00 China time
const SAVE_HISTORIES = process.env.SAVE_WORKFLOW_HISTORIES === '1';
const PLAN = {
  summary: 'Replace the fan tray of the switch',
  solution: 'R&D solution RS-2026-21: fan tray FAN-60 rev. B',
  steps: ['Back up the configuration', 'Swap the fan tray', 'Check the temperatures'],
  rollback: 'Put the old fan tray back',
};

describe('rectification campaign over sites: a refusal with proof, a failed site rescheduled, completed', () => {
  let h: ProcessHarness;
  let agreeing: SeededCustomer;
  let refusing: SeededCustomer;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    Object.assign(h.tokens, await createUsers(h.database.db, ['rd_reviewer', 'senior_engineer']));
    await h.startWorker();
    const product = await seedProduct(h.database.db);
    agreeing = await seedCustomer(h.database.db, { productId: product.id, prefix: 'HWX', start: 100, devicesPerSite: [1, 1] });
    refusing = await seedCustomer(h.database.db, { productId: product.id, prefix: 'HWX', start: 200, devicesPerSite: [2] });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('the campaign completes once every device is rectified or declined with proof', async () => {
    const p = campaignProbes(h);
    const as = p.as;
    const raised = await request(h.app)
      .post('/rectification-campaigns')
      .set(as('manager'))
      .send({
        title: 'S5720 fan trays fail early',
        defectType: 'component_batch',
        description: 'Fans of batch 2026-07 seize after months of use',
        affected: { serials: ['HWX0100'], serialRanges: [{ from: 'HWX0101', to: 'HWX0299' }] },
        solution: { kind: 'hardware', parts: [{ productCode: 'FAN-60', quantity: 1 }], instructions: 'Swap the fan tray; hot-swappable' },
        effort: { hoursPerDevice: 1.5, partsPerDevice: [{ productCode: 'FAN-60', quantity: 1 }] },
        highRisk: false,
      });
    expect(raised.status).toBe(201);
    const number: string = raised.body.caseNumber;
    expect(raised.body).toMatchObject({ devices: 4, sites: 3, customers: 2, totals: { hours: 6, parts: [{ productCode: 'FAN-60', quantity: 4 }] } });
    await p.approvePlan(number);

    // The refusing customer's notice, uploaded to the campaign, closes them as declined.
    await eventually(() => p.get(number), (b) => b.progress.customers.awaiting_agreement === 2);
    const proof = await request(h.app).post(`/cases/${number}/evidence`).set(as('service_desk')).field('item', 'customer refusal memo').attach('files', pdfDocument(7), 'memo.pdf');
    expect(proof.status).toBe(201);
    const declined = await request(h.app).post(`/rectification-campaigns/${number}/customers/${refusing.id}/decline`).set(as('service_desk')).send({ reason: 'Replacing the fans ourselves', evidenceIds: [proof.body.files[0].id] });
    expect(declined.status).toBe(200);
    await eventually(() => p.get(number), (b) => b.perCustomer.find((c: { customerId: string }) => c.customerId === refusing.id).status === 'declined');

    // The other agrees: a site visit per site.
    await p.agree(number, agreeing);
    // Devices and sites are counted from the rows the customer's and each site's workflows write, a moment apart.
    const visiting = await eventually(() => p.get(number), (b) => b.progress.devices.site_work === 2 && b.progress.sites.site_work === 2);
    expect(visiting.progress.sites).toMatchObject({ site_work: 2, completed: 1 });

    const site = (siteId: string) => `/rectification-campaigns/${number}/sites/${siteId}`;
    const getSite = async (siteId: string) => (await request(h.app).get(site(siteId)).set(as('service_desk'))).body;
    const slotLink = async (siteName: string, count: number) => {
      const mails = await eventually(() => mailsTo(h.smtp, agreeing.email, `Please confirm the rectification slot at ${siteName}`), (found) => found.length >= count);
      return linkPathIn(mails[count - 1]!)!;
    };
    const signature = async (title: string) => {
      const [mail] = await eventually(() => mailsTo(h.smtp, agreeing.email, `Please sign: ${title} (version 1)`), (mails) => mails.length === 1);
      return linkPathIn(mail!)!;
    };
    /** Work order to a confirmed slot with the plan signed: scheduled. */
    const schedule = async (siteId: string, startsAt: string) => {
      await eventually(() => getSite(siteId), (b) => b.status === 'picking');
      expect((await request(h.app).post(`${site(siteId)}/materials`).set(as('service_desk')).send({ materials: [{ productCode: 'FAN-60', quantity: 1 }] })).status).toBe(200);
      const body = await eventually(() => getSite(siteId), (b) => b.plan !== null);
      const planId: string = body.plan.documentId;
      expect((await request(h.app).post(`/documents/${planId}/versions`).set(as('engineer')).send({ content: PLAN })).status).toBe(201);
      expect((await request(h.app).post(`${site(siteId)}/slot`).set(as('service_desk')).send({ startsAt, durationMinutes: 90 })).status).toBe(200);
      expect((await request(h.app).post(`/documents/${planId}/decisions`).set(as('senior_engineer')).send({ version: 1, decision: 'approved' })).status).toBe(200);
      expect((await request(h.app).post(await slotLink(body.siteName, 1)).send({ confirmation: 'confirmed' })).status).toBe(200);
      expect((await request(h.app).post(await signature(`Implementation plan, ${body.siteName}`)).send({ decision: 'signed' })).status).toBe(200);
      await eventually(() => getSite(siteId), (b) => b.status === 'scheduled');
      return body.siteName as string;
    };
    const implement = async (siteId: string, succeeded: boolean) => {
      expect((await request(h.app).post(`${site(siteId)}/implementation/start`).set(as('engineer')).send({})).status).toBe(200);
      const finished = await request(h.app)
        .post(`${site(siteId)}/implementation/finish`)
        .set(as('engineer'))
        .send(succeeded ? { succeeded: true, result: 'Fan tray replaced, temperatures normal' } : { succeeded: false, result: 'New tray not recognised', rollback: PLAN.rollback });
      expect(finished.status).toBe(200);
      return finished.body;
    };
    const signReport = async (siteId: string, siteName: string) => {
      const reportId: string = (await eventually(() => getSite(siteId), (b) => b.report !== null)).report.documentId;
      expect((await request(h.app).post(`/documents/${reportId}/versions`).set(as('engineer')).send({ content: { summary: 'Fan tray replaced', workDone: 'Swapped the tray, checked temperatures' } })).status).toBe(201);
      expect((await request(h.app).post(await signature(`Rectification report, ${siteName}`)).send({ decision: 'signed' })).status).toBe(200);
    };

    const [failingSite, smoothSite] = agreeing.sites as [string, string];
    const failingName = await schedule(failingSite, '2026-11-20T22:00:00+08:00');
    const smoothName = await schedule(smoothSite, '2026-11-21T22:00:00+08:00');

    // The first site fails: rolled back, its device failed and still open; the campaign does not complete.
    await sleepUntil(h.env, '2026-11-20T14:00:00Z');
    expect((await implement(failingSite, false)).status).toBe('planning');
    const afterFailure = await eventually(() => p.get(number), (b) => b.progress.devices.failed === 1);
    expect(afterFailure.progress.sites).toMatchObject({ failed: 1 });
    expect(afterFailure.status).toBe('rolling_out');

    // The second succeeds and is reported.
    await sleepUntil(h.env, '2026-11-21T14:00:00Z');
    expect((await implement(smoothSite, true)).status).toBe('reporting');
    await signReport(smoothSite, smoothName);

    // The failed site is rescheduled, confirmed again and succeeds.
    const rescheduled = await request(h.app).post(`${site(failingSite)}/slot`).set(as('service_desk')).send({ startsAt: '2026-11-27T22:00:00+08:00', durationMinutes: 90, reason: 'Firmware upgrade first, then the tray' });
    expect(rescheduled.status).toBe(200);
    expect((await request(h.app).post(await slotLink(failingName, 2)).send({ confirmation: 'confirmed' })).status).toBe(200);
    await eventually(() => getSite(failingSite), (b) => b.status === 'scheduled');
    expect((await p.get(number)).status).toBe('rolling_out');
    await sleepUntil(h.env, '2026-11-27T14:00:00Z');
    expect((await implement(failingSite, true)).status).toBe('reporting');
    await signReport(failingSite, failingName);

    const done = await eventually(() => p.get(number), (b) => b.status === 'completed', 30_000);
    expect(done.progress.devices).toMatchObject({ rectified: 2, declined: 2, failed: 0, site_work: 0 });
    expect(done.progress.sites).toMatchObject({ completed: 3, failed: 0, site_work: 0 });
    expect(done.perCustomer.find((c: { customerId: string }) => c.customerId === agreeing.id)).toMatchObject({ status: 'completed', devices: { rectified: 2 } });
    expect(done.perCustomer.find((c: { customerId: string }) => c.customerId === refusing.id)).toMatchObject({ status: 'declined', devices: { declined: 2 } });
    await expect(h.env.client.workflow.getHandle(customerWorkflowId(number, agreeing.id)).result()).resolves.toEqual({ customerId: agreeing.id, status: 'completed', rectified: 2, declined: 0 });
    const sent = h.smtp.received.map((mail) => `${mail.to.join(',')}|${mail.subject}|${mail.text}`);
    expect(new Set(sent).size).toBe(sent.length);

    if (SAVE_HISTORIES) {
      fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
      const save = async (workflowId: string, file: string) =>
        fs.writeFileSync(path.join(__dirname, 'histories', file), temporal.api.history.v1.History.encode(await h.env.client.workflow.getHandle(workflowId).fetchHistory()).finish());
      await save(campaignWorkflowId(number), 'rectification-campaign-sites.binpb');
      await save(customerWorkflowId(number, agreeing.id), 'rectification-customer-sites-failed-then-rectified.binpb');
    }
  }, 240_000);
});
