import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { seedServiceCompany, createContact, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { createUsers } from '../support/app';
import { bearer, eventually, mailsTo, sleepUntil } from '../support/probes';
import { signOffWorkflowId } from '../../workflows/sign-off/definitions';
import { DAY, HOUR, INCIDENT_REPORT, MINUTE, SUMMARY_REPORT, after, closeOutProbes, insertIncident, makeCoordinator, startCloseOut } from './support';

// The incident close-out end to end (P2 "After restoration"), started as the incident core starts it
// at restoration, on the full harness with time skipping. The virtual clock starts on Monday
// 2026-11-16 16:00 Asia/Shanghai (08:00Z); Tuesday 17 and Wednesday 18 are working days.
const START_TIME = '2026-11-16T08:00:00Z';
const CONTACT_EMAIL = 'lilei@cmcc.test';
const SUPERVISOR_EMAIL = 'wang.fang@cmcc.test';
const ENGINEER_EMAIL = 'engineer@fieldops.test';
const MANAGER_EMAIL = 'manager@fieldops.test';
const DESK_EMAIL = 'service_desk@fieldops.test';

// Saved from the current workflow code (SAVE_WORKFLOW_HISTORIES=1, see replay.test.ts).
const HISTORIES = path.join(__dirname, 'histories');

async function saveHistory(h: ProcessHarness, workflowId: string, file: string): Promise<void> {
  if (process.env.SAVE_WORKFLOW_HISTORIES !== '1') return;
  fs.mkdirSync(HISTORIES, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES, file), temporal.api.history.v1.History.encode(await h.env.client.workflow.getHandle(workflowId).fetchHistory()).finish());
}

describe('incident close-out: incident report, summary report, follow-up, group summary, review meeting, archive', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let p: ReturnType<typeof closeOutProbes>;
  let engineerId: string;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
    p = closeOutProbes(h);
    engineerId = await p.userId('engineer');
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('restoration -> incident report objected once then signed, summary sent back once then customised and delivered to the supervisor, follow-up, group summary, meeting invitation (rebooked) and minutes -> archived', async () => {
    // The customer's supervisor, recorded through the master data API (a contact gains a role).
    const supervisor = await request(h.app)
      .post('/contacts')
      .set(p.as('service_desk'))
      .send({ customerId: company.customerId, name: 'Wang Fang', email: SUPERVISOR_EMAIL, locale: 'zh-CN', role: 'chief' });
    expect(supervisor.status).toBe(400);
    expect(supervisor.body.error.details).toEqual([expect.objectContaining({ field: 'role' })]);
    const created = await request(h.app).post('/contacts').set(p.as('service_desk')).send({ customerId: company.customerId, name: 'Wang Fang', email: SUPERVISOR_EMAIL, locale: 'zh-CN' });
    expect(created.body.role).toBe('operations');
    const promoted = await request(h.app).patch(`/contacts/${created.body.id}`).set(p.as('service_desk')).send({ role: 'supervisor' });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('supervisor');
    const supervisors = await request(h.app).get(`/contacts?customerId=${company.customerId}&role=supervisor`).set(p.as('engineer'));
    expect(supervisors.body.items.map((contact: { email: string }) => contact.email)).toEqual([SUPERVISOR_EMAIL]);

    const interruptedAt = after(START_TIME, -2 * HOUR);
    const restoredAt = START_TIME;
    const { caseId, caseNumber: number } = await insertIncident(h, company, interruptedAt, 'Core router down in Pudong');
    await makeCoordinator(h, caseId, engineerId, interruptedAt);
    expect((await request(h.app).get(`/incidents/${number}/close-out`).set(p.as('manager'))).status).toBe(409); // not restored yet
    const handle = await startCloseOut(h, { caseId, caseNumber: number, restoredAt, interruptedAt, round: 1 });

    // The deadlines, computed once from the calendar: 1 working day (Tuesday 23:59:59 China time,
    // the writer chased at 09:00 that day), 2 days and a week after restoration.
    const started = await eventually(() => p.get(number), (b) => b.round === 1);
    expect(started).toMatchObject({
      status: 'reporting',
      interruptionMinutes: 120,
      deadlinesProvisional: false,
      incidentReport: { status: 'awaiting_version', currentVersion: 0, signedAt: null },
      summaryReport: { state: 'awaiting', dueAt: '2026-11-17T15:59:59.000Z', chaseAt: '2026-11-17T01:00:00.000Z', chasedAt: null, missedAt: null },
      followUp: { dueAt: after(restoredAt, 2 * DAY), doneAt: null, late: false },
      groupSummary: { dueAt: after(restoredAt, 7 * DAY), submittedAt: null, late: false },
      meeting: null,
      minutes: null,
      archivedAt: null,
      previousRounds: [],
    });
    expect(started.waitingFor).toEqual(expect.arrayContaining(['engineer', 'service_desk', 'coordinator']));
    expect((await p.tasksOf('engineer', number)).map((task) => task.kind).sort()).toEqual(['write_group_summary', 'write_incident_report', 'write_incident_summary']);
    expect((await p.tasksOf('service_desk', number)).map((task) => task.kind).sort()).toEqual(['incident_follow_up', 'schedule_review_meeting']);
    expect(await p.tasksOf('manager', number)).toEqual([]);

    // The incident report: a bad version names the field; the customer objects to v1 and signs v2.
    const reportId: string = started.incidentReport.documentId;
    const bad = await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: { ...INCIDENT_REPORT(interruptedAt, restoredAt), restoredAt: after(interruptedAt, -MINUTE) } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'content.restoredAt' })]);
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: INCIDENT_REPORT(interruptedAt, restoredAt) })).status).toBe(201);
    const v1Link = await p.signatureLink(CONTACT_EMAIL, `Incident report ${number}`, 1);
    const page = await request(h.app).get(v1Link).set('Accept', 'text/html');
    expect(page.text).toContain('Line card firmware fault');
    expect((await request(h.app).post(v1Link).send({ decision: 'objected', comment: 'The outage started at 10:00, not 09:55' })).status).toBe(200);
    await eventually(() => p.get(number), (b) => b.incidentReport.status === 'returned');
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: INCIDENT_REPORT(interruptedAt, restoredAt), reason: 'Times corrected' })).status).toBe(201);
    expect((await request(h.app).post(await p.signatureLink(CONTACT_EMAIL, `Incident report ${number}`, 2)).send({ decision: 'signed' })).status).toBe(200);
    await eventually(() => p.get(number), (b) => b.incidentReport.signedVersion === 2);

    // The summary report: reviewing or customising before it is written is a 409; sent back with a
    // comment (the writer is emailed), written again, approved, customised -> delivered to the supervisor.
    expect((await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'approved' })).status).toBe(409);
    expect((await request(h.app).post(`/incidents/${number}/summary-report/customisation`).set(p.as('manager')).send({ text: 'Dear customer' })).status).toBe(409);
    const { rootCause: _omitted, ...withoutCause } = SUMMARY_REPORT;
    const missing = await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send(withoutCause);
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'rootCause' })]);
    expect((await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('service_desk')).send(SUMMARY_REPORT)).status).toBe(403);
    const v1 = await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send(SUMMARY_REPORT);
    expect(v1.status).toBe(200);
    expect(v1.body.summaryReport).toMatchObject({ state: 'submitted', version: 1, content: { rootCause: 'Line card firmware fault (DTS2026110042)' } });
    expect((await p.tasksOf('manager', number)).map((task) => [task.kind, task.dueAt])).toEqual([['review_incident_summary', '2026-11-17T15:59:59.000Z']]);
    expect((await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send(SUMMARY_REPORT)).status).toBe(409);
    const noComment = await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'returned' });
    expect(noComment.status).toBe(400);
    expect(noComment.body.error.details).toEqual([expect.objectContaining({ field: 'comment' })]);
    const returned = await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'returned', comment: 'Give the timeline in China time' });
    expect(returned.body.summaryReport).toMatchObject({ state: 'returned', reviewComment: 'Give the timeline in China time' });
    await eventually(() => mailsTo(h.smtp, ENGINEER_EMAIL, `[${number}] 事故紧急恢复总结报告第 1 版被退回`), (mails) => mails.length === 1);
    expect((await p.tasksOf('engineer', number)).map((task) => task.kind)).toContain('write_incident_summary');
    expect((await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send({ ...SUMMARY_REPORT, process: 'Notice 10:00 (China time) ... restored 12:00' })).body.summaryReport).toMatchObject({ state: 'submitted', version: 2 });
    expect((await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'approved' })).body.summaryReport.state).toBe('approved');
    expect((await p.tasksOf('manager', number)).map((task) => task.kind)).toEqual(['customise_incident_summary']);
    const delivered = await request(h.app)
      .post(`/incidents/${number}/summary-report/customisation`)
      .set(p.as('manager'))
      .send({ text: '尊敬的客户：11月16日10:00核心路由器故障，12:00恢复。原因为线卡固件缺陷，我们将在下一维护窗口升级固件。' });
    expect(delivered.status).toBe(200);
    expect(delivered.body.summaryReport).toMatchObject({ state: 'delivered', deliveredAt: expect.any(String), deliveredTo: [{ email: SUPERVISOR_EMAIL, role: 'supervisor', name: 'Wang Fang' }] });
    const [report] = await eventually(() => mailsTo(h.smtp, SUPERVISOR_EMAIL, `[${number}] 事故紧急恢复总结报告`), (mails) => mails.length === 1);
    expect(report!.text).toContain('线卡固件缺陷');
    expect(report!.text).toContain('Wang Fang');
    expect(mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Emergency-recovery summary report`)).toHaveLength(0);
    expect(mailsTo(h.smtp, DESK_EMAIL, `[${number}] 客户无主管联系人`)).toHaveLength(0);

    // The follow-up (desk) and the group summary (the coordinator); each once.
    const followed = await request(h.app).post(`/incidents/${number}/follow-up`).set(p.as('service_desk')).send({ reached: true, notes: 'Customer confirms stable service' });
    expect(followed.body.followUp).toMatchObject({ doneAt: expect.any(String), reached: true, late: false, by: 'service_desk user' });
    expect((await request(h.app).post(`/incidents/${number}/follow-up`).set(p.as('service_desk')).send({ reached: false })).status).toBe(409);
    expect((await request(h.app).post(`/incidents/${number}/group-summary`).set(p.as('service_desk')).send({ summary: 's', lessons: 'l' })).status).toBe(403);
    const { senior_engineer: otherEngineer } = await createUsers(h.database.db, ['senior_engineer']);
    const notCoordinator = await request(h.app).post(`/incidents/${number}/group-summary`).set(bearer(otherEngineer)).send({ summary: 's', lessons: 'l' });
    expect(notCoordinator.status).toBe(403);
    expect(notCoordinator.body.error.message).toContain('engineer user'); // the coordinator, by name
    const grouped = await request(h.app).post(`/incidents/${number}/group-summary`).set(p.as('engineer')).send({ summary: 'Isolated the card, then the standby took over', lessons: 'Keep a firmware baseline per product line' });
    expect(grouped.body.groupSummary).toMatchObject({ submittedAt: expect.any(String), summary: 'Isolated the card, then the standby took over', late: false });

    // Everything in: the review meeting. Minutes before it is scheduled, or before it begins, are a 409.
    const inReview = await eventually(() => p.get(number), (b) => b.status === 'review_meeting');
    expect(inReview.waitingFor).toEqual(['service_desk']);
    expect((await request(h.app).post(`/incidents/${number}/review-meeting/minutes`).set(p.as('service_desk')).send({ minutes: 'm' })).status).toBe(409);
    const now = await p.virtualNow();
    const attendees = [
      { name: 'Manager', email: MANAGER_EMAIL },
      { name: 'Zhang Wei', email: ENGINEER_EMAIL },
      { name: 'Li Lei', email: CONTACT_EMAIL },
    ];
    const sameEmailTwice = await request(h.app).post(`/incidents/${number}/review-meeting`).set(p.as('service_desk')).send({ startsAt: after(now, DAY), location: 'Room 3', attendees: [...attendees, attendees[0]] });
    expect(sameEmailTwice.status).toBe(400);
    expect(sameEmailTwice.body.error.details).toEqual([expect.objectContaining({ field: 'attendees' })]);
    const booked = await request(h.app).post(`/incidents/${number}/review-meeting`).set(p.as('service_desk')).send({ startsAt: after(now, DAY), location: 'Room 3', attendees });
    expect(booked.body.meeting).toMatchObject({ startsAt: after(now, DAY), endsAt: after(now, DAY + HOUR), location: 'Room 3', bookings: 1 });
    const meetingAt = after(now, 2 * HOUR);
    const rebooked = await request(h.app).post(`/incidents/${number}/review-meeting`).set(p.as('service_desk')).send({ startsAt: meetingAt, endsAt: after(meetingAt, 90 * MINUTE), location: 'Room 5', attendees });
    expect(rebooked.body.meeting).toMatchObject({ startsAt: meetingAt, location: 'Room 5', bookings: 2 });
    // The customer's contact (English) reads it in English, the staff in Chinese.
    for (const attendee of attendees) {
      const subject = attendee.email === CONTACT_EMAIL ? 'review meeting' : '总结会';
      const invitations = await eventually(() => mailsTo(h.smtp, attendee.email, `[${number}]`).filter((mail) => mail.subject.includes(subject)), (mails) => mails.length === 2);
      const invite = (i: number) => (invitations[i]!.calendars ?? []).join('\n');
      expect(invite(0)).toContain('BEGIN:VEVENT');
      expect(invite(1)).toContain(`UID:${number}/r1/review-meeting@fieldops`);
      expect(invite(0)).toContain(`UID:${number}/r1/review-meeting@fieldops`);
      expect(invite(0)).toContain('SEQUENCE:0');
      expect(invite(1)).toContain('SEQUENCE:1');
      expect(invite(1)).toContain('Room 5');
      expect(invitations[1]!.subject).toContain(attendee.email === CONTACT_EMAIL ? '(rescheduled)' : '时间变更');
    }
    expect((await p.tasksOf('service_desk', number)).map((task) => task.kind)).toEqual(['record_review_minutes']);
    const early = await request(h.app).post(`/incidents/${number}/review-meeting/minutes`).set(p.as('service_desk')).send({ minutes: 'm' });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('starts at');

    await sleepUntil(h.env, after(meetingAt, 30 * MINUTE));
    const minuted = await request(h.app)
      .post(`/incidents/${number}/review-meeting/minutes`)
      .set(p.as('service_desk'))
      .send({ minutes: 'Handling reviewed with the technical director; report to the general manager', decisions: ['Firmware baseline per product line', 'Standby card stock in Pudong'] });
    expect(minuted.status).toBe(200);
    const result = await handle.result();
    expect(result.archivedAt).toEqual(expect.any(String));
    const archived = await p.get(number);
    expect(archived).toMatchObject({
      status: 'archived',
      archivedAt: result.archivedAt,
      waitingFor: [],
      minutes: { decisions: ['Firmware baseline per product line', 'Standby card stock in Pudong'] },
      summaryReport: { chasedAt: null, missedAt: null },
      followUp: { chasedAt: null },
      groupSummary: { chasedAt: null },
    });
    expect(await p.tasksOf('service_desk', number)).toEqual([]);
    // Nobody was chased: everything came in time.
    expect(mailsTo(h.smtp, MANAGER_EMAIL, `[${number}]`).filter((mail) => !mail.subject.includes('总结会'))).toHaveLength(0);
    expect(mailsTo(h.smtp, DESK_EMAIL, `[${number}]`)).toHaveLength(0);
    const audit = await h.database.db.selectFrom('audit_events').select('action').where('case_id', '=', caseId).execute();
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['incident.close_out_started', 'incident.incident_report_signed', 'incident.summary_report_returned', 'incident.summary_report_delivered', 'incident.follow_up', 'incident.group_summary', 'incident.review_meeting_scheduled', 'incident.review_minutes', 'incident.close_out_archived']),
    );
    // An archived round takes no more steps.
    expect((await request(h.app).post(`/incidents/${number}/follow-up`).set(p.as('service_desk')).send({ reached: true })).status).toBe(409);
    await saveHistory(h, handle.workflowId, 'incident-close-out-archived.binpb');
  }, 180_000);

  test('the close-out steps are in the OpenAPI document with their roles and bodies', async () => {
    const document = (await request(h.app).get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const step of ['summary-report', 'summary-report/review', 'summary-report/customisation', 'follow-up', 'group-summary', 'review-meeting', 'review-meeting/minutes']) {
      expect(document.paths[`/incidents/{caseNumber}/${step}`]?.post?.requestBody).toBeDefined();
    }
    expect(document.paths['/incidents/{caseNumber}/close-out']?.get).toBeDefined();
    expect(document.paths['/contacts/{id}']?.patch).toBeDefined();
  });

  test('the summary report customised late: the writer chased at 09:00 of the due day, the managers told once at the deadline; no supervisor on record: the case contact gets it and the desk is told; the follow-up and the group summary chased at their deadlines', async () => {
    const other = await seedServiceCompany(h.database.db, { roles: [], customer: { code: 'CT-BJ', name: 'Beijing Telecom' }, product: { code: 'OCEANSTOR-5500' }, contact: { name: 'Zhao Lei', email: 'zhaolei@ct.test', locale: 'en' } });
    await createContact(h.database.db, other.customerId, { name: 'Qian Jun', email: 'qianjun@ct.test', role: 'technical' });
    // Restored on Tuesday 17 at 10:00 China time.
    await sleepUntil(h.env, '2026-11-17T02:00:00Z');
    const restoredAt = await p.virtualNow();
    const interruptedAt = after(restoredAt, -30 * MINUTE);
    const { caseId, caseNumber: number } = await insertIncident(h, other, interruptedAt, 'Storage array offline in Haidian');
    const handle = await startCloseOut(h, { caseId, caseNumber: number, restoredAt, interruptedAt, round: 1 });
    const started = await eventually(() => p.get(number), (b) => b.round === 1);
    const { dueAt, chaseAt } = started.summaryReport as { dueAt: string; chaseAt: string };
    // Due the end of Wednesday 18 (China time), the writer chased at 09:00 that day.
    expect(dueAt).toBe('2026-11-18T15:59:59.000Z');
    expect(chaseAt).toBe('2026-11-18T01:00:00.000Z');

    // A running round is the incident's child with a row of its own, not a workflow without a case.
    const consistency = await request(h.app).get('/admin/consistency').set(p.as('admin')).expect(200);
    expect(consistency.body.workflowsWithoutCase.map((entry: { workflowId: string }) => entry.workflowId)).not.toContain(handle.workflowId);

    // No group, no writer yet: the chase goes to the desk.
    await sleepUntil(h.env, after(chaseAt, MINUTE));
    await eventually(() => mailsTo(h.smtp, DESK_EMAIL, `[${number}] 事故紧急恢复总结报告今日到期`), (mails) => mails.length === 1);
    expect(mailsTo(h.smtp, MANAGER_EMAIL, `[${number}]`)).toHaveLength(0);
    expect((await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send(SUMMARY_REPORT)).status).toBe(200);

    await sleepUntil(h.env, after(dueAt, MINUTE));
    const [late] = await eventually(() => mailsTo(h.smtp, MANAGER_EMAIL, `[${number}] 事故紧急恢复总结报告逾期`), (mails) => mails.length === 1);
    expect(late!.text).toContain('1 个工作日');
    const missed = await eventually(() => p.get(number), (b) => b.summaryReport.missedAt !== null);
    expect(missed.summaryReport).toMatchObject({ state: 'submitted', chasedAt: expect.any(String), missedAt: expect.any(String) });

    // Customised late: delivered, recorded as late; the managers are not told again.
    expect((await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'approved' })).status).toBe(200);
    const delivered = await request(h.app).post(`/incidents/${number}/summary-report/customisation`).set(p.as('manager')).send({ text: 'Dear Beijing Telecom, the storage array was restored.' });
    expect(delivered.body.summaryReport).toMatchObject({ state: 'delivered', deliveredTo: [{ email: 'zhaolei@ct.test', role: 'case_contact' }] });
    await eventually(() => mailsTo(h.smtp, 'zhaolei@ct.test', `[${number}] Emergency-recovery summary report`), (mails) => mails.length === 1);
    const [deskNotice] = await eventually(() => mailsTo(h.smtp, DESK_EMAIL, `[${number}] 客户无主管联系人`), (mails) => mails.length === 1);
    expect(deskNotice!.text).toContain('zhaolei@ct.test');
    expect(mailsTo(h.smtp, 'qianjun@ct.test', `[${number}]`)).toHaveLength(0);
    const lateEntry = await h.database.db.selectFrom('audit_events').select('data').where('case_id', '=', caseId).where('action', '=', 'incident.summary_report_delivered').executeTakeFirstOrThrow();
    expect(lateEntry.data).toMatchObject({ late: true, noSupervisor: true });

    // The follow-up not recorded by its deadline: the desk is chased, once.
    await sleepUntil(h.env, after(restoredAt, 2 * DAY + MINUTE));
    await eventually(() => mailsTo(h.smtp, DESK_EMAIL, `[${number}] 客户回访到期`), (mails) => mails.length === 1);
    const chased = await eventually(() => p.get(number), (b) => b.followUp.chasedAt !== null);
    expect(chased.followUp).toMatchObject({ late: true, doneAt: null });
    expect(mailsTo(h.smtp, MANAGER_EMAIL, `[${number}] 事故紧急恢复总结报告逾期`)).toHaveLength(1);

    // The group summary not in a week after restoration: the group has no coordinator, so the managers (who form it) are chased.
    await sleepUntil(h.env, after(restoredAt, 7 * DAY + MINUTE));
    await eventually(() => mailsTo(h.smtp, MANAGER_EMAIL, `[${number}] 紧急事故处理小组总结到期`), (mails) => mails.length === 1);
    expect((await eventually(() => p.get(number), (b) => b.groupSummary.chasedAt !== null)).groupSummary).toMatchObject({ late: true, submittedAt: null });
    expect(mailsTo(h.smtp, MANAGER_EMAIL, `[${number}] 事故紧急恢复总结报告逾期`)).toHaveLength(1);
    await handle.cancel();
    await handle.result();
  }, 180_000);

  test('the incident reopens (cancelled by the core): the round is superseded, its unsigned report withdrawn, nothing more chased; the next restoration starts round 2', async () => {
    const restoredAt = await p.virtualNow();
    const interruptedAt = after(restoredAt, -HOUR);
    const { caseId, caseNumber: number } = await insertIncident(h, company, interruptedAt, 'Database cluster failover loop');
    const handle = await startCloseOut(h, { caseId, caseNumber: number, restoredAt, interruptedAt, round: 1 });
    const started = await eventually(() => p.get(number), (b) => b.round === 1);
    const reportId: string = started.incidentReport.documentId;
    // The report's row is written a moment before its sign-off workflow starts: the engineer writes once it runs.
    await eventually(() => h.env.client.workflow.getHandle(signOffWorkflowId(reportId)).describe().then(() => true, () => false), (running) => running);
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: INCIDENT_REPORT(interruptedAt, restoredAt) })).status).toBe(201);
    await p.signatureLink(CONTACT_EMAIL, `Incident report ${number}`, 1);

    // The same symptom within 24 h: the incident core cancels its close-out child.
    await sleepUntil(h.env, after(restoredAt, 3 * HOUR));
    await handle.cancel();
    expect(await handle.result()).toEqual({ archivedAt: null });
    const superseded = await p.get(number);
    expect(superseded).toMatchObject({ round: 1, status: 'superseded', supersededAt: expect.any(String), waitingFor: [], incidentReport: { status: 'withdrawn' } });
    expect(await p.tasksOf('engineer', number)).toEqual([]);
    expect((await request(h.app).post(`/incidents/${number}/follow-up`).set(p.as('service_desk')).send({ reached: true })).status).toBe(409);
    await saveHistory(h, handle.workflowId, 'incident-close-out-superseded.binpb');

    // Its deadlines pass: nobody is chased for a superseded round.
    await sleepUntil(h.env, after(restoredAt, 8 * DAY));
    expect(mailsTo(h.smtp, DESK_EMAIL, `[${number}]`)).toHaveLength(0);
    expect(mailsTo(h.smtp, MANAGER_EMAIL, `[${number}]`)).toHaveLength(0);
    expect(mailsTo(h.smtp, ENGINEER_EMAIL, `[${number}]`)).toHaveLength(0);

    // Restored again on Friday 2026-12-04 16:00 China time: round 2 under the same workflow id, with its
    // own report and deadlines (1 working day after a Friday: the end of Monday).
    await sleepUntil(h.env, '2026-12-04T08:00:00Z');
    const restoredAgain = await p.virtualNow();
    const round2 = await startCloseOut(h, { caseId, caseNumber: number, restoredAt: restoredAgain, interruptedAt, round: 2 });
    const second = await eventually(() => p.get(number), (b) => b.round === 2);
    expect(second).toMatchObject({ status: 'reporting', restoredAt: restoredAgain, incidentReport: { status: 'awaiting_version' }, previousRounds: [{ round: 1, status: 'superseded' }] });
    expect(second.incidentReport.documentId).not.toBe(reportId);
    expect(second.followUp.dueAt).toBe(after(restoredAgain, 2 * DAY));
    expect(second.summaryReport).toMatchObject({ dueAt: '2026-12-07T15:59:59.000Z', chaseAt: '2026-12-07T01:00:00.000Z' });
    await round2.cancel();
    expect(await round2.result()).toEqual({ archivedAt: null });
  }, 180_000);
});
