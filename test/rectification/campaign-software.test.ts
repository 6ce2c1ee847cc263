import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { campaignWorkflowId, customerWorkflowId } from '../../workflows/rectification/definitions';
import { createUsers } from '../support/app';
import { pdfDocument } from '../support/evidence';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, linkPathIn, mailsTo } from '../support/probes';
import { SOFTWARE_SOLUTION, campaignProbes, seedCustomer, seedProduct, type SeededCustomer } from './campaign-support';

// A software campaign end to end (real worker, time-skipping test server, PostgreSQL, SMTP): raised by
// R&D, approved by management, customers started one at a time (the second only once the first is
// done); the first agrees and applies the patch on the link page device by device; the second refuses
// with proof. The campaign's history limit is tiny, so it continues as new while customers run and
// keeps its progress (counted in the database).
const START_TIME = '2026-11-16T02:00:00Z';
const SAVE_HISTORIES = process.env.SAVE_WORKFLOW_HISTORIES === '1';

describe('rectification campaign, software fix applied by the customers', () => {
  let h: ProcessHarness;
  let first: SeededCustomer;
  let second: SeededCustomer;
  let productCode: string;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    Object.assign(h.tokens, await createUsers(h.database.db, ['rd_reviewer', 'senior_engineer']));
    await h.startWorker();
    const product = await seedProduct(h.database.db);
    productCode = product.code;
    // Two customers: the first with 2 devices at a site and 1 at none, the second with one; a device of another product in the range is left out.
    first = await seedCustomer(h.database.db, { productId: product.id, prefix: 'SWA', start: 1000, devicesPerSite: [2], siteless: 1 });
    second = await seedCustomer(h.database.db, { productId: product.id, prefix: 'SWA', start: 1003, devicesPerSite: [1] });
    const other = await seedProduct(h.database.db);
    await seedCustomer(h.database.db, { productId: other.id, prefix: 'SWA', start: 1004, devicesPerSite: [1] });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('raised, approved, applied device by device, declined with proof, continued as new, completed', async () => {
    const p = campaignProbes(h);
    const body = {
      title: 'AR routers reboot under IPv6 load',
      defectType: 'software_bug',
      description: 'A memory leak in the IPv6 forwarding path reboots the router after about 40 days',
      affected: { productCodes: [productCode], serialRanges: [{ from: 'SWA1000', to: 'SWA1999' }] },
      solution: SOFTWARE_SOLUTION,
      effort: { hoursPerDevice: 0.5 },
      highRisk: false,
      rollout: { customersAtOnce: 1, historyLimit: 20 },
    };
    // Who may raise it, and a range that is not one.
    expect((await request(h.app).post('/rectification-campaigns').set(p.as('engineer')).send(body)).status).toBe(403);
    const badRange = await request(h.app).post('/rectification-campaigns').set(p.as('rd_reviewer')).send({ ...body, affected: { serialRanges: [{ from: 'SWA1000', to: 'SWB1999' }] } });
    expect(badRange.status).toBe(400);
    expect(badRange.body.error.details).toEqual([expect.objectContaining({ field: 'affected.serialRanges.0.to' })]);
    const unknownSerial = await request(h.app).post('/rectification-campaigns').set(p.as('rd_reviewer')).send({ ...body, affected: { serials: ['SWA1000', 'NOPE-1'] } });
    expect(unknownSerial.status).toBe(400);
    expect(unknownSerial.body.error.details).toEqual([expect.objectContaining({ field: 'affected.serials.1' })]);

    const raised = await request(h.app).post('/rectification-campaigns').set(p.as('rd_reviewer')).send(body);
    expect(raised.status).toBe(201);
    const number: string = raised.body.caseNumber;
    expect(number).toMatch(/^RC-2026-\d{6}$/);
    expect(raised.body).toMatchObject({ status: 'planning', devices: 4, sites: 2, customers: 2, totals: { hours: 2, parts: [] }, plan: { status: 'awaiting_version' } });
    expect(raised.body.progress.devices).toMatchObject({ awaiting_agreement: 4, rectified: 0 });
    const rdTasks = (await request(h.app).get('/me/tasks').set(p.as('rd_reviewer'))).body.items;
    expect(rdTasks).toContainEqual(expect.objectContaining({ kind: 'submit_rectification_plan', caseNumber: number }));

    await p.approvePlan(number);

    // One customer at a time: one is asked to agree, the other waits for its turn.
    const rolling = await eventually(() => p.get(number), (b) => b.progress.customers.awaiting_agreement === 1);
    expect(rolling.progress.customers).toMatchObject({ awaiting_agreement: 1, pending: 1 });
    const current: SeededCustomer = rolling.perCustomer.find((c: { status: string }) => c.status === 'awaiting_agreement').customerId === first.id ? first : second;
    const later = current === first ? second : first;
    const tooSoon = await request(h.app).post(`/rectification-campaigns/${number}/customers/${later.id}/decline`).set(p.as('service_desk')).send({ reason: 'Not now', evidenceIds: ['00000000-0000-4000-8000-000000000000'] });
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.body.error.code).toBe('customer_not_started');
    const managerTasks = (await request(h.app).get('/me/tasks').set(p.as('manager'))).body.items;
    expect(managerTasks).toContainEqual(expect.objectContaining({ kind: 'write_rectification_agreement', caseNumber: number }));

    const applyOnPage = async (customer: SeededCustomer) => {
      await p.agree(number, customer);
      const [kit] = await eventually(() => mailsTo(h.smtp, customer.email, 'software rectification'), (mails) => mails.length === 1);
      expect(kit!.text).toContain('V300R019C10SPC300');
      for (const serial of customer.serials) expect(kit!.text).toContain(serial);
      const link = linkPathIn(kit!)!;
      const page = await request(h.app).get(link).set('Accept', 'text/html');
      expect(page.status).toBe(200);
      expect(page.text).toContain(customer.serials[0]);
      return link;
    };
    const declineWithProof = async (customer: SeededCustomer) => {
      const withoutProof = await request(h.app).post(`/rectification-campaigns/${number}/customers/${customer.id}/decline`).set(p.as('service_desk')).send({ reason: 'No change during our network freeze', evidenceIds: [] });
      expect(withoutProof.status).toBe(400);
      expect(withoutProof.body.error.details).toEqual([expect.objectContaining({ field: 'evidenceIds' })]);
      const strayProof = await request(h.app).post(`/rectification-campaigns/${number}/customers/${customer.id}/decline`).set(p.as('service_desk')).send({ reason: 'No change during our network freeze', evidenceIds: ['00000000-0000-4000-8000-000000000000'] });
      expect(strayProof.status).toBe(422);
      expect(strayProof.body.error.details).toMatchObject({ field: 'evidenceIds.0' });
      const uploaded = await request(h.app).post(`/cases/${number}/evidence`).set(p.as('service_desk')).field('item', 'customer refusal notice').attach('files', pdfDocument(1), 'refusal-fax.pdf');
      expect(uploaded.status).toBe(201);
      const proof: string = uploaded.body.files[0].id;
      const declined = await request(h.app).post(`/rectification-campaigns/${number}/customers/${customer.id}/decline`).set(p.as('service_desk')).send({ reason: 'No change during our network freeze', evidenceIds: [proof] });
      expect(declined.status).toBe(200);
      const entry = declined.body.perCustomer.find((c: { customerId: string }) => c.customerId === customer.id);
      expect(entry.declined).toMatchObject({ reason: 'No change during our network freeze', evidenceIds: [proof] });
      expect(entry.devices).toMatchObject({ declined: customer.serials.length, awaiting_agreement: 0 });
      await eventually(() => mailsTo(h.smtp, customer.email, 'Your refusal of the rectification is recorded'), (mails) => mails.length === 1);
      return proof;
    };
    const applyAll = async (customer: SeededCustomer) => {
      const link = await applyOnPage(customer);
      const [firstSerial, ...rest] = customer.serials;
      const applied = await request(h.app).post(link).send({ serial: firstSerial, outcome: 'applied' });
      expect(applied.status).toBe(200);
      expect(applied.body).toMatchObject({ serial: firstSerial, remaining: rest.length });
      const again = await request(h.app).post(link).send({ serial: firstSerial, outcome: 'applied' });
      expect(again.status).toBe(422);
      const last = rest.pop();
      if (last) {
        // The device without a site cannot have an engineer; the rest are confirmed one by one.
        const siteless = customer === first ? await request(h.app).post(link).send({ serial: last, outcome: 'engineer_requested' }) : undefined;
        if (siteless) {
          expect(siteless.status).toBe(422);
          expect(siteless.body.error.details).toMatchObject({ field: 'deviceIds.0' });
        }
        for (const serial of rest) expect((await request(h.app).post(link).send({ serial, outcome: 'applied', note: 'Done in our Tuesday window' })).status).toBe(200);
        // The last one the desk records as the customer phoned it in.
        const byDesk = await request(h.app).post(`/rectification-campaigns/${number}/customers/${customer.id}/devices`).set(p.as('service_desk')).send({ serials: [last], outcome: 'applied' });
        expect(byDesk.status).toBe(200);
      }
    };

    // The first customer started applies; the second is only started once the first is done.
    if (current === first) await applyAll(first);
    else await declineWithProof(second);
    await eventually(() => p.get(number), (b) => b.perCustomer.find((c: { customerId: string }) => c.customerId === later.id).agreementDocumentId !== null);
    const midway = await p.get(number);
    expect(midway.perCustomer.find((c: { customerId: string }) => c.customerId === current.id).status).toBe(current === first ? 'completed' : 'declined');
    if (later === first) await applyAll(first);
    else await declineWithProof(second);

    const done = await eventually(() => p.get(number), (b) => b.status === 'completed', 30_000);
    expect(done.progress.devices).toMatchObject({ rectified: 3, declined: 1, awaiting_agreement: 0, awaiting_customer_apply: 0, site_work: 0, failed: 0 });
    expect(done.progress.customers).toMatchObject({ completed: 1, declined: 1 });
    expect(done.completedAt).not.toBeNull();
    const result = await h.env.client.workflow.getHandle(campaignWorkflowId(number)).result();
    expect(result).toEqual({ rectified: 3, declined: 1 });

    // The campaign continued as new (the first run's history ends so) and its last run still completed with the counts above.
    const describe = await h.env.client.workflow.getHandle(campaignWorkflowId(number)).describe();
    const runs = await h.env.client.workflow.getHandle(campaignWorkflowId(number)).fetchHistory();
    const started = runs.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.continuedExecutionRunId).toBeTruthy();
    expect(describe.runId).not.toBe(started?.continuedExecutionRunId);
    // Each email once.
    const sent = h.smtp.received.map((mail) => `${mail.to.join(',')}|${mail.subject}|${mail.text}`);
    expect(new Set(sent).size).toBe(sent.length);

    if (SAVE_HISTORIES) {
      fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
      const history = await h.env.client.workflow.getHandle(customerWorkflowId(number, first.id)).fetchHistory();
      fs.writeFileSync(path.join(__dirname, 'histories', 'rectification-customer-software-applied.binpb'), temporal.api.history.v1.History.encode(history).finish());
      const firstCampaignRun = await h.env.client.workflow.getHandle(campaignWorkflowId(number), started!.continuedExecutionRunId!).fetchHistory();
      fs.writeFileSync(path.join(__dirname, 'histories', 'rectification-campaign-first-run.binpb'), temporal.api.history.v1.History.encode(firstCampaignRun).finish());
    }
  }, 180_000);
});
