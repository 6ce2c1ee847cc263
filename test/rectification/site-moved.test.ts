import request from 'supertest';
import { customerCalendarRules } from '../../activities/rectification/site-activities';
import { slotConflict } from '../../workflows/rules/rectification-slots';
import { createUsers } from '../support/app';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { pdfDocument } from '../support/evidence';
import { eventually, mailsTo, sleepUntil } from '../support/probes';
import { DAY, seedSite, siteProbes, startSite, type SiteFixture } from './site-support';

// A high-risk site whose R&D review finishes 2 days before the slot (real worker, time-skipping
// test server, PostgreSQL, SMTP): the durable timer at slot - 3 days records the review overdue and
// tells R&D and the desk; when the review finishes, the slot moves to the first allowed slot at least
// 3 days later at the same time of day, past the customer's Sunday-morning busy hours and a protected
// period; the move is recorded with its reason, the customer is emailed and re-confirms (the old
// link no longer confirms anything), and the site is scheduled once the plan is signed.
// The virtual clock starts on Monday 2026-11-16 10:00 China time.
const START_TIME = '2026-11-16T02:00:00Z';
const SLOT = '2026-11-27T22:00:00+08:00'; // Friday night, 3 hours
const RD_DUE = '2026-11-24T14:00:00.000Z'; // slot - 3 days
const RD_FINISHED = '2026-11-25T14:00:00Z'; // 2 days before the slot

describe('rectification site: the R&D review finished 2 days before the slot moves it; a site declined with proof', () => {
  let h: ProcessHarness;
  let site: SiteFixture;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    Object.assign(h.tokens, await createUsers(h.database.db, ['senior_engineer', 'rd_reviewer']));
    await h.startWorker();
    // Sunday 2026-11-29 to Tuesday 2026-12-01 protected: the first allowed 22:00 after the review + 3 days is Wednesday's.
    site = await seedSite(h.database.db, { highRisk: true, protectedPeriods: [{ starts_on: '2026-11-29', ends_on: '2026-12-01', reason: '重要通信保障期间' }] });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('overdue at slot - 3 days, moved when the review finishes, re-confirmed by the customer', async () => {
    const p = siteProbes(h, site);
    await startSite(h, site);
    await eventually(p.get, (body) => body.status === 'picking');
    const planId = await p.pickAndWritePlan();
    expect((await p.post('slot', 'engineer', { startsAt: SLOT, durationMinutes: 180 })).body.rdReview.dueAt).toBe(RD_DUE);
    expect((await request(h.app).post(await p.slotLink(1)).send({ confirmation: 'confirmed' })).status).toBe(200);
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(p.as('senior_engineer')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    const rdTask = await eventually(
      async () => ((await request(h.app).get('/me/tasks').set(p.as('rd_reviewer'))).body.items as { kind: string; dueAt: string | null }[]).find((task) => task.kind === 'review_rectification_plan'),
      (task) => task !== undefined,
    );
    expect(rdTask!.dueAt).toBe(RD_DUE);
    // Not R&D's to decide before: the engineer cannot take the R&D step.
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(p.as('senior_engineer')).send({ version: 1, decision: 'approved' })).status).toBe(403);

    // The durable timer at slot - 3 days: the review is overdue; R&D and the desk are told.
    await sleepUntil(h.env, '2026-11-24T15:00:00Z');
    const overdue = await eventually(p.get, (body) => body.rdReview.overdueAt !== null);
    expect(overdue.slot.startsAt).toBe('2026-11-27T14:00:00.000Z');
    await eventually(() => mailsTo(h.smtp, 'rd_reviewer@fieldops.test', '研发评审已逾期'), (mails) => mails.length === 1);
    expect(mailsTo(h.smtp, 'service_desk@fieldops.test', '研发评审已逾期')).toHaveLength(1);

    // R&D finishes 2 days before the slot: the slot moves.
    await sleepUntil(h.env, RD_FINISHED);
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(p.as('rd_reviewer')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    const moved = await eventually(p.get, (body) => body.slotHistory.length === 2);
    const move = moved.slotHistory[1];
    // Saturday 22:00 runs into Sunday's 00:00-06:00 busy hours, Sunday to Tuesday are protected: Wednesday 22:00.
    expect(move).toMatchObject({ seq: 2, reason: 'rd_review_late', startsAt: '2026-12-02T14:00:00.000Z', durationMinutes: 180, previousStartsAt: '2026-11-27T14:00:00.000Z', movedByRole: 'system', confirmedAt: null });
    expect(move.detail).toContain('R&D review finished');
    expect(moved.slot).toMatchObject({ seq: 2, startsAt: '2026-12-02T14:00:00.000Z', confirmedAt: null });
    expect(moved.status).toBe('planning');
    expect(Date.parse(move.startsAt) - Date.parse(moved.rdReview.finishedAt)).toBeGreaterThanOrEqual(3 * DAY);
    const rules = await customerCalendarRules(h.database.db, site.customerId);
    expect(rules.protectedPeriods).toHaveLength(1);
    expect(slotConflict(rules, { startsAt: move.startsAt, durationMinutes: 180 })).toBeNull();
    // The first allowed slot: every earlier 22:00 after the review + 3 days falls in something.
    for (const earlier of ['2026-11-28T22:00:00+08:00', '2026-11-29T22:00:00+08:00', '2026-11-30T22:00:00+08:00', '2026-12-01T22:00:00+08:00']) {
      expect(slotConflict(rules, { startsAt: earlier, durationMinutes: 180 })).not.toBeNull();
    }

    // The customer is emailed why, and re-confirms; the first link no longer confirms anything.
    const moveLink = await p.slotLink(2);
    const moveMail = mailsTo(h.smtp, site.contactEmail, 'Please confirm the rectification slot')[1]!;
    expect(moveMail.text).toContain('The R&D review of the implementation plan was not finished 3 days before the slot');
    expect(moveMail.text).toContain('Was: 2026-11-27 22:00 (UTC+8)');
    const oldLink = await p.slotLink(1);
    const stale = await request(h.app).post(oldLink).send({ confirmation: 'confirmed' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toContain('replaced by slot 2');
    expect((await request(h.app).get(oldLink).set('Accept', 'text/html')).text).toContain('This slot was replaced');
    expect((await request(h.app).post(moveLink).send({ confirmation: 'confirmed' })).status).toBe(200);
    const confirmed = await p.get();
    expect(confirmed.slotHistory[1].confirmedAt).not.toBeNull();

    // The customer approves the plan: scheduled in the moved slot.
    expect((await request(h.app).post(await p.signatureLink(`Implementation plan, ${confirmed.siteName}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    const scheduled = await eventually(p.get, (body) => body.status === 'scheduled');
    expect(scheduled.slot).toMatchObject({ seq: 2, startsAt: '2026-12-02T14:00:00.000Z' });
    expect(scheduled.reviews.map((review: { step: string }) => review.step)).toEqual(['technical_review', 'rd_review', 'customer_signature']);
    // Nothing was emailed twice.
    expect(new Set(h.smtp.received.map((mail) => mail.messageId)).size).toBe(h.smtp.received.length);
  }, 180_000);

  test("the customer refuses the site work before it starts: declined with proof, the plan withdrawn, the site closed", async () => {
    const refusing = await seedSite(h.database.db, { highRisk: false, protectedPeriods: [] });
    const p = siteProbes(h, refusing);
    const handle = await startSite(h, refusing);
    await eventually(p.get, (body) => body.status === 'picking');
    const planId = await p.pickAndWritePlan();
    const upload = await request(h.app).post(`/cases/${refusing.campaignNumber}/evidence`).set(p.as('service_desk')).field('item', 'Customer memo').attach('files', pdfDocument(7), 'memo.pdf');
    expect(upload.status).toBe(201);
    const evidenceId: string = upload.body.files[0].id;

    // Proof is required, and it must be the campaign's.
    expect((await p.post('decline', 'service_desk', { reason: 'Network freeze until spring', evidenceIds: [] })).status).toBe(400);
    const foreign = await p.post('decline', 'service_desk', { reason: 'Network freeze until spring', evidenceIds: [site.campaignCaseId] });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.details).toEqual([expect.objectContaining({ field: 'evidenceIds.0' })]);
    expect((await p.post('decline', 'engineer', { reason: 'Network freeze until spring', evidenceIds: [evidenceId] })).status).toBe(403);

    const declined = await p.post('decline', 'service_desk', { reason: 'Network freeze until spring', evidenceIds: [evidenceId] });
    expect(declined.status).toBe(200);
    expect(declined.body.status).toBe('declined');
    expect(declined.body.declined).toMatchObject({ reason: 'Network freeze until spring', evidenceIds: [evidenceId] });
    expect(declined.body.devices.map((device: { status: string }) => device.status)).toEqual(['declined', 'declined']);
    const devices = await h.database.db.selectFrom('rectification_devices').select(['status', 'decline_evidence_ids']).where('campaign_case_id', '=', refusing.campaignCaseId).execute();
    expect(devices.every((device) => device.status === 'declined' && device.decline_evidence_ids?.[0] === evidenceId)).toBe(true);
    await expect(handle.result()).resolves.toEqual({ siteId: refusing.siteId, rectified: [], declined: refusing.deviceIds });
    expect((await request(h.app).get(`/documents/${planId}`).set(p.as('service_desk'))).body.status).toBe('withdrawn');
    // Closed: no step is taken any more.
    expect((await p.post('slot', 'service_desk', { startsAt: '2026-12-10T22:00:00+08:00', durationMinutes: 60, reason: 'again' })).status).toBe(409);
  }, 120_000);
});
