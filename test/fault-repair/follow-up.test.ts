import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { faultRepairWorkflowId } from '../../workflows/fault-repair/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';
import { CONTACT_EMAIL, DAY, HOUR, MINUTE, after, faultRepairProbes, registerFault, solveRemotelyToFollowUp } from './support';

// Fault repair stage 2 end to end: from restoration to the archive, on the full harness with time skipping.
// The virtual clock starts on Monday 2026-11-16 16:00 Asia/Shanghai (08:00Z).
const START_TIME = '2026-11-16T08:00:00Z';

const FAULT_REPORT = (reportedAt: string, restoredAt: string) => ({
  reportedAt,
  remoteSupportAt: after(reportedAt, 5 * MINUTE),
  onSiteAt: null,
  restoredAt,
  engineers: ['Zhang Wei'],
  customerEngineers: ['Li Lei'],
  symptomsAndImpact: 'Alarm storm on slot 3; 40 % of users without service for 20 minutes',
  resolutionProcess: 'Remote login, stuck alarm cleared, ports re-enabled',
  rootCause: 'A firmware bug left the alarm latched',
  solution: 'Cleared the alarm; firmware patch scheduled',
  preventionAdvice: 'Install firmware patch V200R021SPH005 in the next window',
});

// Saved from the current workflow code (SAVE_WORKFLOW_HISTORIES=1, see replay.test.ts).
const CLOSED_CASE_HISTORY = path.join(__dirname, 'histories', 'fault-repair-solved-remotely-closed.binpb');

describe('fault repair, stage 2 (fault report, follow-up call, survey, write-up, archive)', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let p: ReturnType<typeof faultRepairProbes>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
    p = faultRepairProbes(h);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('restoration -> fault report in time, survey answered, call recorded, write-up sent back once then approved -> closed, device history written', async () => {
    const reportedAt = await p.virtualNow();
    const { response, deviceId } = await registerFault(h, company, 'FU-SN-0001', { severity: 'minor', reportedAt });
    expect(response.status).toBe(201);
    const number: string = response.body.caseNumber;
    const restoredAt = after(reportedAt, 20 * MINUTE);
    await sleepUntil(h.env, after(reportedAt, 25 * MINUTE));
    const { body: inFollowUp, signedAt } = await solveRemotelyToFollowUp(h, number, restoredAt, {
      summary: 'Alarm cleared',
      workDone: 'Remote login, alarm cleared',
      partsUsed: [{ productCode: 'SFP-10G-LR', quantity: 1, serial: 'SFP0001' }],
    });

    // The deadlines, computed once when restoration was recorded and when the report was signed.
    expect(inFollowUp.faultReport).toMatchObject({ dueAt: after(restoredAt, DAY), missed: false, submittedAt: null, content: null });
    expect(inFollowUp.writeUp).toMatchObject({ dueAt: after(restoredAt, 7 * DAY), state: 'awaiting', version: 0 });
    expect(Date.parse(inFollowUp.followUp.dueAt) - Date.parse(signedAt)).toBeGreaterThanOrEqual(2 * DAY - MINUTE);
    expect(Date.parse(inFollowUp.followUp.dueAt) - Date.parse(signedAt)).toBeLessThanOrEqual(2 * DAY + MINUTE);
    expect(inFollowUp.closedAt).toBeNull();

    // What waits for whom (GET /me/tasks), each due at its deadline.
    const tasksOf = async (role: 'engineer' | 'service_desk' | 'manager') =>
      ((await request(h.app).get('/me/tasks').set(p.as(role)).expect(200)).body.items as { kind: string; caseNumber: string; dueAt: string | null }[]).filter((task) => task.caseNumber === number);
    expect(await tasksOf('engineer')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'write_fault_report', dueAt: new Date(after(restoredAt, DAY)).toISOString() }),
        expect.objectContaining({ kind: 'write_up', dueAt: new Date(after(restoredAt, 7 * DAY)).toISOString() }),
      ]),
    );
    expect(await tasksOf('service_desk')).toEqual([expect.objectContaining({ kind: 'follow_up_call', dueAt: new Date(inFollowUp.followUp.dueAt).toISOString() })]);

    // The follow-up email with the survey link; the page, then the answer through the link (once).
    const [followUpMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] How did we do?`), (mails) => mails.length === 1);
    const surveyPath = linkPathIn(followUpMail!)!;
    expect(surveyPath).toBeDefined();
    const page = await request(h.app).get(surveyPath).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('How did we do?');
    expect(page.text).toContain(number);
    const badScore = await request(h.app).post(surveyPath).send({ score: 7 });
    expect(badScore.status).toBe(400);
    expect(badScore.body.error.details).toEqual([expect.objectContaining({ field: 'score' })]);
    const answered = await request(h.app).post(surveyPath).send({ score: 4, comment: 'Quick fix, thanks' });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ caseNumber: number, score: 4 });
    const again = await request(h.app).post(surveyPath).send({ score: 5 });
    expect(again.status).toBe(409);

    // The fault report: a missing item is a 400 naming it; submitted -> the customer gets its seven items.
    const { rootCause: _omitted, ...withoutRootCause } = FAULT_REPORT(reportedAt, restoredAt);
    const missing = await request(h.app).post(`/fault-repairs/${number}/fault-report`).set(p.as('engineer')).send(withoutRootCause);
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'rootCause' })]);
    const submitted = await request(h.app).post(`/fault-repairs/${number}/fault-report`).set(p.as('engineer')).send(FAULT_REPORT(reportedAt, restoredAt));
    expect(submitted.status).toBe(200);
    expect(submitted.body.faultReport).toMatchObject({ missed: false, late: false, submittedAt: expect.any(String), content: { rootCause: 'A firmware bug left the alarm latched', onSiteAt: null } });
    const [reportMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Fault report`), (mails) => mails.length === 1);
    for (const line of ['1. Times: reported', '2. Support engineers: Zhang Wei; your engineers: Li Lei', '3. Symptoms and business impact:', '4. What was done:', '5. Root cause: A firmware bug', '6. Solution:', '7. Prevention advice: Install firmware patch']) {
      expect(reportMail!.text).toContain(line);
    }
    expect((await request(h.app).post(`/fault-repairs/${number}/fault-report`).set(p.as('engineer')).send(FAULT_REPORT(reportedAt, restoredAt))).status).toBe(409);

    // The follow-up call (desk).
    const called = await request(h.app).post(`/fault-repairs/${number}/follow-up-call`).set(p.as('service_desk')).send({ reached: true, notes: 'Customer satisfied, no recurrence' });
    expect(called.status).toBe(200);
    expect(called.body.followUp).toMatchObject({ call: { reached: true, notes: 'Customer satisfied, no recurrence' }, survey: { score: 4, comment: 'Quick fix, thanks' }, chasedAt: null });
    expect((await request(h.app).post(`/fault-repairs/${number}/follow-up-call`).set(p.as('service_desk')).send({ reached: false })).status).toBe(409);

    // The write-up: reviewing before it is in is a 409; sent back (a comment is required), submitted again, approved -> closed.
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(p.as('manager')).send({ decision: 'approved' })).status).toBe(409);
    const v1 = await request(h.app).post(`/fault-repairs/${number}/write-up`).set(p.as('engineer')).send({ summary: 'Alarm latched', lessons: 'Check alarms first' });
    expect((await tasksOf('manager')).map((task) => task.kind)).toEqual(['review_write_up']);
    expect((await tasksOf('engineer')).map((task) => task.kind)).toEqual([]);
    expect(v1.status).toBe(200);
    expect(v1.body.writeUp).toMatchObject({ state: 'submitted', version: 1 });
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up`).set(p.as('engineer')).send({ summary: 'again', lessons: 'again' })).status).toBe(409);
    const noComment = await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(p.as('manager')).send({ decision: 'returned' });
    expect(noComment.status).toBe(400);
    expect(noComment.body.error.details).toEqual([expect.objectContaining({ field: 'comment' })]);
    const returned = await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(p.as('manager')).send({ decision: 'returned', comment: 'Name the firmware bug' });
    expect(returned.body.writeUp).toMatchObject({ state: 'returned', version: 1, reviewComment: 'Name the firmware bug' });
    expect(returned.body.status).toBe('follow_up');
    const v2 = await request(h.app).post(`/fault-repairs/${number}/write-up`).set(p.as('engineer')).send({ summary: 'Alarm latched by firmware bug DTS2026110001', lessons: 'Check latched alarms first' });
    expect(v2.body.writeUp).toMatchObject({ state: 'submitted', version: 2 });
    const approved = await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(p.as('manager')).send({ decision: 'approved' });
    expect(approved.status).toBe(200);

    const closed = await eventually(() => p.get(number), (b) => b.status === 'closed');
    expect(closed.closedAt).toEqual(expect.any(String));
    expect(closed.writeUp).toMatchObject({ state: 'approved', version: 2 });
    expect(closed.timeline.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['fault_repair.follow_up_deadlines', 'fault_repair.survey_answered', 'fault_repair.fault_report_submitted', 'fault_repair.follow_up_call', 'fault_repair.write_up_returned', 'fault_repair.write_up_approved', 'fault_repair.archived']),
    );
    const caseRow = await h.database.db.selectFrom('cases').select(['status', 'closed_at']).where('number', '=', number).executeTakeFirstOrThrow();
    expect(caseRow.status).toBe('closed');
    expect(caseRow.closed_at).not.toBeNull();
    // The device's history: the fault, the repair and the parts.
    const history = await request(h.app).get(`/devices/${deviceId}/history`).set(p.as('service_desk'));
    expect(history.status).toBe(200);
    expect(history.body.entries.map((e: { kind: string; caseNumber: string }) => [e.kind, e.caseNumber])).toEqual([
      ['fault', number],
      ['repair', number],
      ['parts', number],
    ]);
    expect(history.body.entries[1].summary).toBe('Cleared the alarm; firmware patch scheduled');
    expect(history.body.entries[2].summary).toBe('SFP-10G-LR x 1 (SFP0001)');
    // Append-only.
    await expect(h.database.db.deleteFrom('device_history').where('device_id', '=', deviceId).execute()).rejects.toThrow(/append-only/);

    // Nobody was chased: everything came in time. The engineer heard only that the write-up came back.
    expect(mailsTo(h.smtp, 'engineer@fieldops.test', `[${number}]`).map((mail) => mail.subject)).toEqual([`[${number}] 总结报告第 1 版被退回`]);
    expect(mailsTo(h.smtp, 'manager@fieldops.test', `[${number}]`)).toHaveLength(0);
    // A closed case takes no more steps.
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up`).set(p.as('engineer')).send({ summary: 's', lessons: 'l' })).status).toBe(409);

    // The phone response was never recorded: archived anyway; its clock still runs out (breach notice), then the workflow completes.
    const handle = h.env.client.workflow.getHandle(faultRepairWorkflowId(number));
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await sleepUntil(h.env, after(reportedAt, 61 * MINUTE));
    await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] SLA 超时`), (mails) => mails.length === 1);
    await eventually(() => handle.describe(), (d) => d.status.name === 'COMPLETED');

    if (process.env.SAVE_WORKFLOW_HISTORIES === '1') {
      fs.mkdirSync(path.dirname(CLOSED_CASE_HISTORY), { recursive: true });
      fs.writeFileSync(CLOSED_CASE_HISTORY, temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish());
    }
  }, 180_000);

  test('fault report late: the engineer chased 2 h before, the managers told at the deadline; the follow-up call overdue: the desk chased, then the managers', async () => {
    const reportedAt = await p.virtualNow();
    const { response } = await registerFault(h, company, 'FU-SN-0002', { severity: 'minor', reportedAt });
    const number: string = response.body.caseNumber;
    const restoredAt = reportedAt;
    const { body, signedAt } = await solveRemotelyToFollowUp(h, number, restoredAt, { summary: 'Alarm cleared', workDone: 'Remote login' });
    expect(body.engineer).toMatchObject({ name: expect.any(String) }); // the diagnosing engineer is the case's engineer
    const dueAt = after(restoredAt, DAY);
    expect(body.faultReport.dueAt).toBe(dueAt);

    await sleepUntil(h.env, after(dueAt, -2 * HOUR + MINUTE));
    const [chase] = await eventually(() => mailsTo(h.smtp, 'engineer@fieldops.test', `[${number}] 故障报告即将到期`), (mails) => mails.length === 1);
    expect(chase!.text).toContain('2 小时');
    expect(mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 故障报告逾期`)).toHaveLength(0);

    await sleepUntil(h.env, after(dueAt, MINUTE));
    await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 故障报告逾期`), (mails) => mails.length === 1);
    let state = await eventually(() => p.get(number), (b) => b.faultReport.missed === true);
    expect(state.faultReport).toMatchObject({ missed: true, chasedAt: expect.any(String), missedAt: expect.any(String), submittedAt: null });

    // The follow-up call not recorded: the desk at its deadline, the managers a day later.
    const followUpDue: string = state.followUp.dueAt;
    expect(Date.parse(followUpDue)).toBeGreaterThanOrEqual(Date.parse(signedAt) + 2 * DAY - MINUTE);
    await sleepUntil(h.env, after(followUpDue, MINUTE));
    await eventually(() => mailsTo(h.smtp, 'service_desk@fieldops.test', `[${number}] 回访电话到期`), (mails) => mails.length === 1);
    expect(mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 回访电话逾期`)).toHaveLength(0);
    await sleepUntil(h.env, after(followUpDue, DAY + MINUTE));
    await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 回访电话逾期`), (mails) => mails.length === 1);
    state = await eventually(() => p.get(number), (b) => b.followUp.escalatedAt !== null);
    expect(state.followUp).toMatchObject({ chasedAt: expect.any(String), escalatedAt: expect.any(String), call: null });

    // The survey answered through the browser form (the score arrives as text), then the page says it is done.
    const [followUpMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] How did we do?`), (mails) => mails.length === 1);
    const surveyPath = linkPathIn(followUpMail!)!;
    const page = await request(h.app).get(`${surveyPath}?lang=en`).set('Accept', 'text/html');
    const nonce = /name="_nonce" value="([^"]+)"/.exec(page.text)?.[1];
    const cookie = (page.headers['set-cookie'] as unknown as string[] | undefined)?.map((line) => line.split(';')[0]).join('; ');
    const form = await request(h.app).post(surveyPath).set('Cookie', cookie!).type('form').send({ _nonce: nonce!, _lang: 'en', score: '3', comment: '' });
    expect(form.status).toBe(200);
    expect(form.text).toContain('Thank you for your rating.');
    expect((await p.get(number)).followUp.survey).toMatchObject({ score: 3, comment: null, answeredAt: expect.any(String) });
    const answeredPage = await request(h.app).get(`${surveyPath}?lang=en`).set('Accept', 'text/html');
    expect(answeredPage.text).toContain('You rated this service on');

    // Submitted late: recorded as late, still shown as missed.
    const late = await request(h.app).post(`/fault-repairs/${number}/fault-report`).set(p.as('engineer')).send(FAULT_REPORT(reportedAt, restoredAt));
    expect(late.status).toBe(200);
    expect(late.body.faultReport).toMatchObject({ missed: true, late: true });
    expect(late.body.status).toBe('follow_up');
  }, 180_000);
});
