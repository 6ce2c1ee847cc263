import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { siteWorkflowId } from '../../workflows/rectification/definitions';
import { createUsers } from '../support/app';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, mailsTo, sleepUntil } from '../support/probes';
import { PLAN_CONTENT, seedSite, siteProbes, startSite, type SiteFixture } from './site-support';

// One high-risk site end to end (real worker, time-skipping test server, PostgreSQL, SMTP): slots
// refused in busy hours, a protected period or too close for the R&D review; the R&D review
// finished 4 days before the slot keeps it; the first attempt fails and is rolled back, the site is
// rescheduled and succeeds; the report is signed and the replaced parts come back (the one the
// customer kept due in 15 China working days, reminded and chased). No customer child runs: the
// site's signals to it are logged and the site goes on.
// The virtual clock starts on Monday 2026-11-16 10:00 China time.
const START_TIME = '2026-11-16T02:00:00Z';
const SLOT_1 = '2026-11-26T22:00:00+08:00'; // Thursday night
const SLOT_2 = '2026-12-03T22:00:00+08:00'; // a week later
const SAVE_HISTORIES = process.env.SAVE_WORKFLOW_HISTORIES === '1';

describe('rectification site: slot kept, a failed attempt rescheduled, report signed, parts returned', () => {
  let h: ProcessHarness;
  let site: SiteFixture;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    Object.assign(h.tokens, await createUsers(h.database.db, ['senior_engineer', 'rd_reviewer']));
    await h.startWorker();
    site = await seedSite(h.database.db, { highRisk: true, protectedPeriods: [{ starts_on: '2026-12-01', ends_on: '2026-12-02', reason: '重要通信保障期间' }] });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('the whole site, from the work order to the archive', async () => {
    const p = siteProbes(h, site);
    const handle = await startSite(h, site);
    const opened = await eventually(p.get, (body) => body.status === 'picking', 20_000);
    expect(opened.devices.map((device: { status: string }) => device.status)).toEqual(['site_work', 'site_work']);
    expect((await request(h.app).get('/me/tasks').set(p.as('service_desk'))).body.items.map((task: { kind: string }) => task.kind)).toContain('pick_rectification_materials');

    const planId = await p.pickAndWritePlan();
    expect((await p.get()).status).toBe('planning');

    // The slot rule, as the customer's master data says: busy hours, the protected period, and R&D's 3 days.
    const busy = await p.post('slot', 'service_desk', { startsAt: '2026-11-26T10:00:00+08:00', durationMinutes: 120 });
    expect(busy.status).toBe(422);
    expect(busy.body.error.message).toContain("busy hours 08:00-20:00 China time on 2026-11-26");
    const guarded = await p.post('slot', 'service_desk', { startsAt: '2026-12-01T22:00:00+08:00', durationMinutes: 120 });
    expect(guarded.status).toBe(422);
    expect(guarded.body.error.message).toContain('protected period 2026-12-01 to 2026-12-02 (重要通信保障期间)');
    const tooClose = await p.post('slot', 'engineer', { startsAt: '2026-11-17T22:00:00+08:00', durationMinutes: 120 });
    expect(tooClose.status).toBe(422);
    expect(tooClose.body.error.message).toContain('at least 3 days before the slot');
    expect((await p.post('slot', 'billing' as never, { startsAt: SLOT_1, durationMinutes: 120 })).status).toBe(403);
    const proposed = await p.post('slot', 'service_desk', { startsAt: SLOT_1, durationMinutes: 120 });
    expect(proposed.status).toBe(200);
    expect(proposed.body.slot).toMatchObject({ seq: 1, startsAt: '2026-11-26T14:00:00.000Z', durationMinutes: 120, confirmedAt: null });
    expect(proposed.body.rdReview).toMatchObject({ required: true, dueAt: '2026-11-23T14:00:00.000Z', finishedAt: null });

    // The technical review by the network maintenance engineer; then R&D's turn shows in their tasks with slot - 3 days.
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(p.as('senior_engineer')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    const rdTasks = await eventually(
      async () => (await request(h.app).get('/me/tasks').set(p.as('rd_reviewer'))).body.items as { kind: string; dueAt: string | null; href: string }[],
      (tasks) => tasks.some((task) => task.kind === 'review_rectification_plan'),
    );
    expect(rdTasks.find((task) => task.kind === 'review_rectification_plan')).toMatchObject({ dueAt: '2026-11-23T14:00:00.000Z', href: site.path });

    // The customer confirms the slot on the link page.
    const confirmLink = await p.slotLink(1);
    const page = await request(h.app).get(confirmLink).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Confirm the rectification slot');
    expect((await request(h.app).post(confirmLink).send({ confirmation: 'confirmed' })).status).toBe(200);
    expect((await request(h.app).post(confirmLink).send({ confirmation: 'confirmed' })).status).toBe(409);

    // R&D finishes 4 days before the slot: the slot is kept, past its deadline too.
    await sleepUntil(h.env, '2026-11-22T14:00:00Z');
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(p.as('rd_reviewer')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    await eventually(p.get, (body) => body.rdReview.finishedAt !== null);
    await sleepUntil(h.env, '2026-11-23T16:00:00Z');
    const kept = await p.get();
    expect(kept.slotHistory).toHaveLength(1);
    expect(kept.slot).toMatchObject({ seq: 1, startsAt: '2026-11-26T14:00:00.000Z' });
    expect(kept.rdReview).toMatchObject({ dueAt: null, overdueAt: null });
    expect(Date.parse(kept.rdReview.finishedAt) - Date.parse('2026-11-22T14:00:00Z')).toBeLessThan(60_000);
    expect(kept.reviews.map((review: { step: string; decision: string; role: string }) => [review.step, review.decision, review.role])).toEqual([
      ['technical_review', 'approved', 'senior_engineer'],
      ['rd_review', 'approved', 'rd_reviewer'],
    ]);
    expect(mailsTo(h.smtp, 'rd_reviewer@fieldops.test', '研发评审已逾期')).toHaveLength(0);

    // The customer approves the plan: scheduled.
    expect((await request(h.app).post(await p.signatureLink(`Implementation plan, ${kept.siteName}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    await eventually(p.get, (body) => body.status === 'scheduled');

    // Not before the slot starts.
    const early = await p.post('implementation/start', 'engineer', {});
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('the slot starts 2026-11-26T14:00:00.000Z');
    await sleepUntil(h.env, '2026-11-26T14:00:00Z');
    expect((await p.post('implementation/start', 'engineer', {})).body.status).toBe('in_progress');

    // It fails: the rollback per the plan recorded, devices failed, the site open again for a new slot.
    const noRollback = await p.post('implementation/finish', 'engineer', { succeeded: false, result: 'New module not recognised' });
    expect(noRollback.status).toBe(400);
    expect(noRollback.body.error.details).toEqual([expect.objectContaining({ field: 'rollback' })]);
    const failed = await p.post('implementation/finish', 'engineer', { succeeded: false, result: 'New module not recognised by firmware V200R019', rollback: PLAN_CONTENT.rollback });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 'planning', slot: null });
    expect(failed.body.devices.map((device: { status: string }) => device.status)).toEqual(['failed', 'failed']);
    expect(failed.body.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', rollback: PLAN_CONTENT.rollback, slotStartsAt: '2026-11-26T14:00:00.000Z' })]);
    await eventually(() => mailsTo(h.smtp, site.contactEmail, 'did not succeed and was rolled back'), (mails) => mails.length === 1);

    // Rescheduled, with its reason: the devices are back at site work; R&D's review is done, so no deadline.
    expect((await p.post('slot', 'service_desk', { startsAt: SLOT_2, durationMinutes: 120 })).status).toBe(400);
    const rescheduled = await p.post('slot', 'service_desk', { startsAt: SLOT_2, durationMinutes: 120, reason: 'Firmware upgrade first, then the module' });
    expect(rescheduled.status).toBe(200);
    expect(rescheduled.body.slotHistory.map((move: { seq: number; reason: string }) => [move.seq, move.reason])).toEqual([
      [1, 'proposed'],
      [2, 'rescheduled'],
    ]);
    expect(rescheduled.body.slotHistory[1]).toMatchObject({ previousStartsAt: null, detail: 'Firmware upgrade first, then the module', movedByRole: 'service_desk' });
    expect(rescheduled.body.rdReview.dueAt).toBeNull();
    expect(rescheduled.body.devices.map((device: { status: string }) => device.status)).toEqual(['site_work', 'site_work']);
    expect((await request(h.app).post(await p.slotLink(2)).send({ confirmation: 'confirmed' })).status).toBe(200);
    await eventually(p.get, (body) => body.status === 'scheduled');

    // The second attempt succeeds: devices rectified, parts recorded, the report for the customer's signature.
    await sleepUntil(h.env, '2026-12-03T14:30:00Z');
    expect((await p.post('implementation/start', 'engineer', {})).status).toBe(200);
    const [first, second] = site.deviceIds;
    const done = await p.post('implementation/finish', 'engineer', {
      succeeded: true,
      result: 'Firmware V200R021 then module rev. C on both switches; traffic back and tested',
      replacedParts: [
        { deviceId: first, productCode: 'PWR-150W', serial: 'OLD-PWR-1', disposition: 'taken_back' },
        { deviceId: second, productCode: 'PWR-150W', serial: 'OLD-PWR-2', disposition: 'kept_by_customer' },
      ],
    });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('reporting');
    expect(done.body.devices.map((device: { status: string }) => device.status)).toEqual(['rectified', 'rectified']);
    // Received on Thursday 2026-12-03: 15 China working days later is Thursday 2026-12-24, as spare part first counts it.
    const keptPart = done.body.parts.find((part: { serial: string }) => part.serial === 'OLD-PWR-2');
    expect(keptPart).toMatchObject({ disposition: 'kept_by_customer', status: 'with_customer', returnDueDate: '2026-12-24', returnDueAt: '2026-12-24T15:59:59.000Z' });
    expect(done.body.parts.find((part: { serial: string }) => part.serial === 'OLD-PWR-1')).toMatchObject({ disposition: 'taken_back', status: 'in_transit', returnDueDate: null });

    const reportId: string = done.body.report.documentId;
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: { summary: 'Both switches rectified on the second attempt', workDone: 'Firmware upgraded, power modules replaced' } })).status).toBe(201);
    expect((await request(h.app).post(await p.signatureLink(`Rectification report, ${done.body.siteName}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    const returning = await eventually(p.get, (body) => body.status === 'returning_parts');
    expect(returning.report).toMatchObject({ status: 'signed' });

    // The part taken back arrives; the one the customer keeps is reminded (5, 1 working days before, on the day) and chased once overdue.
    const takenBack = returning.parts.find((part: { serial: string }) => part.serial === 'OLD-PWR-1');
    expect((await p.post(`parts/${takenBack.id}/receipt`, 'service_desk', { note: 'Arrived with the engineer' })).body.parts.find((part: { id: string }) => part.id === takenBack.id)).toMatchObject({ status: 'received' });
    expect((await p.post(`parts/${takenBack.id}/receipt`, 'service_desk', {})).status).toBe(409);
    await sleepUntil(h.env, '2026-12-25T01:00:00Z');
    const reminders = await eventually(() => mailsTo(h.smtp, site.contactEmail, 'Please return replaced part OLD-PWR-2'), (mails) => mails.length === 3);
    expect(reminders.map((mail) => /\((\d+) working days left\)|today is the last day/.exec(mail.text)?.[0])).toEqual(['(5 working days left)', '(1 working days left)', 'today is the last day']);
    await eventually(() => mailsTo(h.smtp, site.contactEmail, 'Replaced part OLD-PWR-2 overdue'), (mails) => mails.length === 1);
    expect((await p.get()).parts.find((part: { serial: string }) => part.serial === 'OLD-PWR-2').overdueAt).not.toBeNull();

    // Everything back: archived, and the site's result.
    expect((await p.post(`parts/${keptPart.id}/receipt`, 'service_desk', { note: 'Came back late by courier' })).status).toBe(200);
    await expect(handle.result()).resolves.toEqual({ siteId: site.siteId, rectified: site.deviceIds, declined: [] });
    const archived = await p.get();
    expect(archived.status).toBe('archived');
    expect(archived.archivedAt).not.toBeNull();
    // Each email once: no message twice, and no text sent twice to the same address.
    const sent = h.smtp.received.map((mail) => `${mail.to.join(',')}|${mail.subject}|${mail.text}`);
    expect(new Set(sent).size).toBe(sent.length);
    expect(new Set(h.smtp.received.map((mail) => mail.messageId)).size).toBe(h.smtp.received.length);

    if (SAVE_HISTORIES) {
      fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
      const history = await h.env.client.workflow.getHandle(siteWorkflowId(site.campaignNumber, site.siteId)).fetchHistory();
      fs.writeFileSync(path.join(__dirname, 'histories', 'rectification-site-failed-then-rectified.binpb'), temporal.api.history.v1.History.encode(history).finish());
    }
  }, 180_000);

  test('the OpenAPI document states every site step', async () => {
    const document = (await request(h.app).get('/openapi.json')).body;
    for (const step of ['', '/materials', '/slot', '/implementation/start', '/implementation/finish', '/parts/{partId}/receipt']) {
      expect(document.paths[`/rectification-campaigns/{number}/sites/{siteId}${step}`]).toBeDefined();
    }
    expect((await request(h.app).get('/rectification-campaigns/RC-2026-000001/sites/not-a-uuid').set(bearer(h.tokens.manager))).status).toBe(400);
  });
});
