import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import pino from 'pino';
import { startMissingProcesses } from '../../api/shared/process-starts';
import { insertCase } from '../../db/repositories/cases';
import { faultRepairWorkflowId, type FaultRepairState } from '../../workflows/fault-repair/definitions';
import { signOffWorkflowId } from '../../workflows/sign-off/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';
import { MINUTE, after, faultRepairProbes } from './support';

// Fault repair stage 1 end to end: real worker, the test server with time skipping, PostgreSQL, SMTP.
// The virtual clock starts on Monday 2026-11-16 16:00 Asia/Shanghai (08:00Z), outside the maintenance window.
const START_TIME = '2026-11-16T08:00:00Z';

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card', 'Restore the configuration and test the ports'],
  window: { start: '2026-11-16T16:00:00Z', end: '2026-11-16T21:00:00Z' },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'NE40E-LPU', quantity: 1 }],
  highRiskOperations: ['hot_swap'],
};

describe('fault repair, stage 1 (registration, SLA clocks, plan sign-off, dispatch, high-risk window, service report)', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let siteId: string;
  let engineerUserId: string;
  const as = (role: 'manager' | 'service_desk' | 'engineer') => bearer(h.tokens[role]);
  const virtualNow = async () => new Date(await h.env.currentTimeMs()).toISOString();
  const get = async (number: string) => (await request(h.app).get(`/fault-repairs/${number}`).set(as('service_desk'))).body;
  const target = (body: { targets: { name: string }[] }, name: string) => body.targets.find((t) => t.name === name) as Record<string, unknown>;

  async function register(serial: string, extra: Record<string, unknown>) {
    await company.addDevice(serial);
    return request(h.app)
      .post('/fault-repairs')
      .set(as('service_desk'))
      .send({
        customerId: company.customerId,
        contactId: company.contactId,
        deviceSerial: serial,
        symptoms: 'All ports on slot 3 down, 40 % of users without service',
        actionsTaken: 'Customer reseated the card',
        suspectedCause: 'Line card failure',
        ...extra,
      });
  }

  /** The customer's signature link for a version, from the email. */
  const signatureLink = (title: string, version: number): Promise<string> => faultRepairProbes(h).signatureLink(title, version);

  /** Remote diagnosis, a plan approved and signed in v1, dispatch, arrival `arrivalAfterMs` after the report. */
  async function toOnSite(number: string, reportedAt: string, arrivalAfterMs: number, highRiskOperations: string[]): Promise<void> {
    const diagnosed = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(as('engineer')).send({ outcome: 'needs_plan', findings: 'Needs a visit' });
    expect(diagnosed.status).toBe(200);
    const planId: string = diagnosed.body.plan.id;
    expect((await request(h.app).post(`/documents/${planId}/versions`).set(as('engineer')).send({ content: { ...PLAN, highRiskOperations } })).status).toBe(201);
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(as('manager')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    expect((await request(h.app).post(await signatureLink(`Repair plan ${number}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    await eventually(() => get(number), (b) => b.status === 'awaiting_dispatch');
    expect((await request(h.app).post(`/fault-repairs/${number}/dispatch`).set(as('manager')).send({ engineerUserId, appointmentAt: after(reportedAt, arrivalAfterMs) })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/arrival`).set(as('engineer')).send({ arrivedAt: after(reportedAt, arrivalAfterMs) })).status).toBe(200);
  }

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
    const site = await h.database.db
      .insertInto('sites')
      .values({ customer_id: company.customerId, name: 'Songjiang exchange', city: 'Shanghai', address: null, distance_km: 80 })
      .returning('id')
      .executeTakeFirstOrThrow();
    siteId = site.id;
    engineerUserId = (await h.database.db.selectFrom('users').select('id').where('email', '=', 'engineer@fieldops.test').executeTakeFirstOrThrow()).id;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('the customer reports a fault through an emailed link: the page, the form, a case with its acknowledgement; the link works once', async () => {
    await company.addDevice('FR-SN-LINK');
    const issued = await request(h.app).post('/fault-repairs/report-links').set(as('service_desk')).send({ contactId: company.contactId });
    expect(issued.status).toBe(201);
    const [mail] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', 'Your link to report a fault'), (mails) => mails.length === 1);
    const linkPath = linkPathIn(mail!)!;
    const page = await request(h.app).get(linkPath).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    for (const expected of ['Report a fault', 'Serial number of the device', 'Critical: the service is down for many users']) expect(page.text).toContain(expected);

    const notOurs = await request(h.app).post(linkPath).send({ deviceSerial: 'NOT-OURS', symptoms: 'Ports down', severity: 'major' });
    expect(notOurs.status).toBe(400);
    expect(notOurs.body.error.details).toEqual([expect.objectContaining({ field: 'deviceSerial' })]);
    const reported = await request(h.app).post(linkPath).send({ deviceSerial: 'FR-SN-LINK', symptoms: 'All ports down <b>since 9:00</b>', severity: 'major' });
    expect(reported.status).toBe(200);
    const number: string = reported.body.caseNumber;
    expect(number).toMatch(/^FR-\d{4}-\d{6}$/);
    await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}]`), (mails) => mails.length >= 1);
    const detail = await get(number);
    expect(detail).toMatchObject({ status: 'diagnosis' });
    expect(detail.timeline.find((event: { action: string }) => event.action === 'fault_repair.registered')).toMatchObject({ role: 'customer', actor: 'Li Lei' });
    expect((await request(h.app).post(linkPath).send({ deviceSerial: 'FR-SN-LINK', symptoms: 'again', severity: 'minor' })).status).toBe(410);
  });

  test('the list filters by who a case waits for, its engineer and breached targets; a case says who it waits for', async () => {
    const reportedAt = await virtualNow();
    const registered = await register('FR-SN-LIST', { severity: 'minor', reportedAt });
    const number: string = registered.body.caseNumber;
    expect(registered.body.waitingFor).toEqual(['engineer']);
    const numbersOf = async (query: string) => ((await request(h.app).get(`/fault-repairs?${query}&limit=100`).set(as('manager')).expect(200)).body.items as { caseNumber: string }[]).map((item) => item.caseNumber);
    expect(await numbersOf('waitingFor=engineer')).toContain(number);
    expect(await numbersOf('waitingFor=manager')).not.toContain(number);
    expect(await numbersOf('slaBreached=false')).toContain(number);
    expect(await numbersOf('slaBreached=true')).not.toContain(number);
    expect(await numbersOf(`engineerId=${engineerUserId}`)).not.toContain(number);
    const bad = await request(h.app).get('/fault-repairs?waitingFor=boss').set(as('manager'));
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toMatchObject({ in: 'query', field: 'waitingFor' });
  });

  test('bad input is a 400 naming the field', async () => {
    const notInBase = await request(h.app).post('/fault-repairs').set(as('service_desk')).send({
      customerId: company.customerId, contactId: company.contactId, deviceSerial: 'NOT-OURS', symptoms: 's', actionsTaken: 'a', suspectedCause: 'c', severity: 'major',
    });
    expect(notInBase.status).toBe(400);
    expect(notInBase.body.error.details).toEqual([expect.objectContaining({ field: 'deviceSerial' })]);
    const badSeverity = await register('FR-BAD-1', { severity: 'catastrophic' });
    expect(badSeverity.status).toBe(400);
    expect(badSeverity.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'severity' })]);
    const engineerCannotRegister = await request(h.app).post('/fault-repairs').set(as('engineer')).send({});
    expect(engineerCannotRegister.status).toBe(403);
  });

  test('the full path: plan rejected, objected, signed in v3; dispatch; high-risk work only in the window; restored; service report signed; survey, fault report, call, write-up -> closed; every email once', async () => {
    const reportedAt = await virtualNow();
    const registered = await register('FR-SN-0001', { severity: 'critical', siteId, reportedAt });
    expect(registered.status).toBe(201);
    const number: string = registered.body.caseNumber;
    expect(number).toMatch(/^FR-2026-\d{6}$/);
    expect(registered.body.workflowId).toBe(faultRepairWorkflowId(number));

    // The acknowledgement carries the case number and the targets, computed once and recorded.
    const [ack] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] We have registered your fault report`), (mails) => mails.length === 1);
    expect(ack!.text).toContain('phone response: by');
    expect(ack!.text).toContain('engineer on site: by');
    let body = await eventually(() => get(number), (b) => b.targets.length === 4);
    expect(target(body, 'phone_response')).toMatchObject({ dueAt: after(reportedAt, 5 * MINUTE), state: 'pending' });
    expect(target(body, 'temporary_solution')).toMatchObject({ dueAt: after(reportedAt, 30 * MINUTE) });
    expect(target(body, 'on_site')).toMatchObject({ dueAt: after(reportedAt, 60 * MINUTE), warnAt: after(reportedAt, 45 * MINUTE) });
    expect(target(body, 'restoration')).toMatchObject({ dueAt: after(reportedAt, 24 * 60 * MINUTE) }); // 7x24

    // A step in the wrong status: 409, nothing changes.
    const early = await request(h.app).post(`/fault-repairs/${number}/dispatch`).set(as('manager')).send({ engineerUserId, appointmentAt: after(reportedAt, 30 * MINUTE) });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'invalid_transition' });
    expect(early.body.error.message).toContain('waits for the remote diagnosis');

    // Milestones: phone response 3 min in (met, 2 min early), temporary solution 40 min in (missed, 10 min late).
    expect((await request(h.app).post(`/fault-repairs/${number}/milestones`).set(as('service_desk')).send({ milestone: 'first_response', occurredAt: after(reportedAt, 3 * MINUTE) })).status).toBe(200);
    const temp = await request(h.app).post(`/fault-repairs/${number}/milestones`).set(as('engineer')).send({ milestone: 'temporary_solution', occurredAt: after(reportedAt, 40 * MINUTE), note: 'Traffic rerouted via slot 4' });
    expect(temp.status).toBe(200);
    expect(target(temp.body, 'phone_response')).toMatchObject({ state: 'met', marginMinutes: 2 });
    expect(target(temp.body, 'temporary_solution')).toMatchObject({ state: 'missed', marginMinutes: -10 });
    const twice = await request(h.app).post(`/fault-repairs/${number}/milestones`).set(as('engineer')).send({ milestone: 'first_response' });
    expect(twice.status).toBe(409);

    // Remote diagnosis: a plan is needed; the plan document and its sign-off (a child workflow) exist.
    const diagnosed = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(as('engineer')).send({ outcome: 'needs_plan', findings: 'Card dead, needs a swap' });
    expect(diagnosed.status).toBe(200);
    expect(diagnosed.body).toMatchObject({ status: 'planning', plan: { status: 'awaiting_version', currentVersion: 0 } });
    const planId: string = diagnosed.body.plan.id;
    const title = `Repair plan ${number}`;
    const submit = (content: unknown, reason: string | null = null) => request(h.app).post(`/documents/${planId}/versions`).set(as('engineer')).send({ content, reason });
    const decide = (version: number, decision: 'approved' | 'rejected', comment?: string) => request(h.app).post(`/documents/${planId}/decisions`).set(as('manager')).send({ version, decision, comment });

    // v1 rejected by the manager; v2 approved, then objected to by the customer; v3 signed.
    expect((await submit(PLAN)).status).toBe(201);
    expect((await decide(1, 'rejected', 'Add the port test to the rollback')).body).toMatchObject({ status: 'returned' });
    expect((await submit({ ...PLAN, rollback: 'Old card back, restore backup, test every port' }, 'Rollback completed')).status).toBe(201);
    expect((await decide(2, 'approved')).body).toMatchObject({ waitingFor: 'customer_signature' });
    const objected = await request(h.app).post(await signatureLink(title, 2)).send({ decision: 'objected', comment: 'Do it after our backup job at 01:00' });
    expect(objected.status).toBe(200);
    expect(objected.body).toMatchObject({ version: 2, status: 'returned' });
    expect((await submit({ ...PLAN, steps: ['Wait for the 01:00 backup job', ...PLAN.steps] }, 'After the backup job')).status).toBe(201);
    expect((await decide(3, 'approved')).status).toBe(200);
    expect((await request(h.app).post(await signatureLink(title, 3)).send({ decision: 'signed' })).body).toMatchObject({ version: 3, status: 'signed' });

    body = await eventually(() => get(number), (b) => b.status === 'awaiting_dispatch');
    expect(body.plan).toMatchObject({ id: planId, status: 'signed', currentVersion: 3 });
    expect(body.highRiskOperations).toEqual(['hot_swap']);

    // Dispatch (manager), arrival 50 min in: on site met 10 min early.
    const dispatched = await request(h.app).post(`/fault-repairs/${number}/dispatch`).set(as('manager')).send({ engineerUserId, appointmentAt: after(reportedAt, 50 * MINUTE) });
    expect(dispatched.status).toBe(200);
    expect(dispatched.body).toMatchObject({ status: 'dispatched', engineer: { userId: engineerUserId } });
    const [appointment] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Engineer appointment`), (mails) => mails.length === 1);
    // The appointment lands in the customer's calendar: an iCalendar invitation for the visit.
    const invite = (appointment!.calendars ?? []).join('\n');
    const visitStart = new Date(after(reportedAt, 50 * MINUTE)).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    for (const line of ['METHOD:REQUEST', `UID:${number}/appointment@fieldops`, `DTSTART:${visitStart}`, `SUMMARY:${number}: engineer visit`, 'ORGANIZER;CN="fieldops":mailto:noreply@fieldops.test']) expect(invite).toContain(line);
    const arrived = await request(h.app).post(`/fault-repairs/${number}/arrival`).set(as('engineer')).send({ arrivedAt: after(reportedAt, 50 * MINUTE) });
    expect(arrived.body).toMatchObject({ status: 'on_site' });
    expect(target(arrived.body, 'on_site')).toMatchObject({ state: 'met', marginMinutes: 10 });

    // The high-risk gate: 16:00 Shanghai is outside the window -> 409 naming the next window's start.
    const outside = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({});
    expect(outside.status).toBe(409);
    expect(outside.body.error.message).toContain('next window starts 2026-11-17T00:00:00+08:00');
    expect((await get(number)).status).toBe('on_site');
    // Refused by the validator: the refusal left nothing in the workflow's history.
    const history = await h.env.client.workflow.getHandle(faultRepairWorkflowId(number)).fetchHistory();
    expect(JSON.stringify(history)).toContain('arriveFaultRepair');
    expect(JSON.stringify(history)).not.toContain('startFaultRepairWork');

    // Inside the window (00:30 Shanghai): work starts; finished fixed at once -> restored, the service report follows.
    await sleepUntil(h.env, '2026-11-16T16:30:00Z');
    const started = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({});
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: 'in_progress', maintenanceWindowEndsAt: '2026-11-16T21:00:00.000Z' });
    const finished = await request(h.app).post(`/fault-repairs/${number}/work/finish`).set(as('engineer')).send({ fixed: true, result: 'Card swapped, all ports up' });
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ status: 'reporting', result: 'fixed', serviceReport: { status: 'awaiting_version' } });
    expect(target(finished.body, 'restoration')).toMatchObject({ state: 'met' });
    expect(target(finished.body, 'restoration').marginMinutes).toBeGreaterThan(15 * 60);

    // The service report: the engineer writes it, the customer signs it -> follow_up (stage 2 is not built).
    const reportId: string = finished.body.serviceReport.id;
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(as('engineer')).send({ content: { summary: 'Line card replaced', workDone: 'Swapped the card in slot 3, ports tested' } })).status).toBe(201);
    expect((await request(h.app).post(await signatureLink(`Service report ${number}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    body = await eventually(() => get(number), (b) => b.status === 'follow_up');
    expect(body.serviceReport).toMatchObject({ id: reportId, status: 'signed' });
    expect(body.windowOverrunAt).toBeNull();
    expect(body.targets.map((t: { name: string; state: string; marginMinutes: number | null }) => [t.name, t.state])).toEqual([
      ['phone_response', 'met'],
      ['temporary_solution', 'missed'],
      ['on_site', 'met'],
      ['restoration', 'met'],
    ]);
    expect(body.timeline.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['fault_repair.registered', 'fault_repair.targets_computed', 'fault_repair.plan_signed', 'fault_repair.dispatched', 'fault_repair.work_started', 'fault_repair.restored', 'fault_repair.report_signed']),
    );
    const state = await h.env.client.workflow.getHandle(faultRepairWorkflowId(number)).query<FaultRepairState>('faultRepairState');
    expect(state.status).toBe('follow_up');

    if (process.env.SAVE_WORKFLOW_HISTORIES === '1') {
      // The case up to its follow-up, and its plan's sign-off (three versions, two sent back).
      const save = async (workflowId: string, file: string) =>
        fs.writeFileSync(path.join(__dirname, 'histories', file), temporal.api.history.v1.History.encode(await h.env.client.workflow.getHandle(workflowId).fetchHistory()).finish());
      fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
      await save(faultRepairWorkflowId(number), 'fault-repair-plan-rounds-to-follow-up.binpb');
      await save(signOffWorkflowId(planId), 'sign-off-plan-three-versions.binpb');
    }

    // On to the archive: the survey, the fault report, the follow-up call, the write-up -> closed.
    const restoredAt: string = body.restoredAt;
    const [followUpMail] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] How did we do?`), (mails) => mails.length === 1);
    expect((await request(h.app).post(linkPathIn(followUpMail!)!).send({ score: 5, comment: 'Done in the window as agreed' })).status).toBe(200);
    const faultReport = await request(h.app).post(`/fault-repairs/${number}/fault-report`).set(as('engineer')).send({
      reportedAt,
      remoteSupportAt: after(reportedAt, 10 * MINUTE),
      onSiteAt: after(reportedAt, 50 * MINUTE),
      restoredAt,
      engineers: ['Zhang Wei'],
      customerEngineers: ['Li Lei'],
      symptomsAndImpact: 'All ports on slot 3 down, 40 % of users without service',
      resolutionProcess: 'Rerouted traffic, swapped the card in the maintenance window',
      rootCause: 'A failed line card',
      solution: 'Card replaced, ports tested',
      preventionAdvice: 'Replace cards of the same batch at the next window',
    });
    expect(faultReport.status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/follow-up-call`).set(as('service_desk')).send({ reached: true, notes: 'All fine' })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up`).set(as('engineer')).send({ summary: 'Failed card swapped in the window', lessons: 'Keep a spare card on site' })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(as('manager')).send({ decision: 'approved' })).status).toBe(200);
    const closed = await eventually(() => get(number), (b) => b.status === 'closed');
    expect(closed).toMatchObject({ waitingFor: [], followUp: { survey: { score: 5 } }, writeUp: { state: 'approved' } });
    await eventually(() => h.env.client.workflow.getHandle(faultRepairWorkflowId(number)).describe(), (description) => description.status.name === 'COMPLETED');

    // Every version and comment of the plan is kept; every email of the case arrived once.
    const plan = (await request(h.app).get(`/documents/${planId}`).set(as('service_desk'))).body;
    expect(plan.versions.map((version: { version: number; reason: string | null; decisions: { decision: string; comment: string | null }[] }) => [version.version, version.reason, version.decisions.map((d) => [d.decision, d.comment])])).toEqual([
      [1, null, [['rejected', 'Add the port test to the rollback']]],
      [2, 'Rollback completed', [['approved', null], ['objected', 'Do it after our backup job at 01:00']]],
      [3, 'After the backup job', [['approved', null], ['signed', null]]],
    ]);
    const outbox = await eventually(
      () => h.database.db.selectFrom('email_outbox').select(['idempotency_key', 'status']).where('case_id', '=', body.caseId).execute(),
      (rows) => rows.length > 0 && rows.every((row) => row.status === 'sent'),
    );
    const received = h.smtp.received.filter((mail) => outbox.some((row) => mail.headers.get('x-fieldops-idempotency-key') === row.idempotency_key));
    expect(received).toHaveLength(outbox.length);
    expect(new Set(received.map((mail) => mail.messageId)).size).toBe(received.length);
  }, 120_000);

  test('the on-site target missed: a warning to the desk at 75 %, a breach notice to the managers at 100 %', async () => {
    const reportedAt = await virtualNow();
    const registered = await register('FR-SN-0002', { severity: 'serious', reportedAt }); // no site: in the city, 30 min
    expect(registered.status).toBe(201);
    const number: string = registered.body.caseNumber;
    await eventually(() => get(number), (b) => b.targets.length === 4);
    // The phone response and the temporary solution in time, so only the on-site clock is left to run out.
    await request(h.app).post(`/fault-repairs/${number}/milestones`).set(as('service_desk')).send({ milestone: 'first_response', occurredAt: reportedAt });
    await request(h.app).post(`/fault-repairs/${number}/milestones`).set(as('engineer')).send({ milestone: 'temporary_solution', occurredAt: reportedAt });

    await h.env.sleep(23 * MINUTE); // past 75 % of 30 min
    const [warning] = await eventually(() => mailsTo(h.smtp, 'service_desk@fieldops.test', `[${number}] SLA 预警`), (mails) => mails.length === 1);
    expect(warning!.subject).toContain('工程师到达现场');
    expect(mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] SLA 超时`)).toHaveLength(0);

    await h.env.sleep(8 * MINUTE); // past 100 %
    const [breach] = await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] SLA 超时`), (mails) => mails.length === 1);
    expect(breach!.subject).toContain('工程师到达现场');
    let body = await eventually(() => get(number), (b) => target(b, 'on_site').state === 'missed');
    expect(target(body, 'on_site')).toMatchObject({ dueAt: after(reportedAt, 30 * MINUTE), warnedAt: expect.any(String), breachedAt: expect.any(String), metAt: null });
    expect(body.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['fault_repair.target_warning', 'fault_repair.target_missed']));

    // Through a signed plan to the site: the engineer arrives 45 min in, the target stays missed, 15 min late.
    await toOnSite(number, reportedAt, 45 * MINUTE, []);
    body = await get(number);
    expect(target(body, 'on_site')).toMatchObject({ state: 'missed', marginMinutes: -15 });
    body = (await request(h.app).get(`/fault-repairs?status=on_site&customerId=${company.customerId}`).set(as('manager'))).body;
    expect(body.items.map((item: { caseNumber: string }) => item.caseNumber)).toEqual([number]);
  }, 120_000);

  test('a part swapped on site that the customer keeps starts a linked spare-part loan, received now and due back in 15 working days', async () => {
    const reportedAt = await virtualNow();
    const registered = await register('FR-SN-SWAP', { severity: 'major', siteId, reportedAt });
    const number: string = registered.body.caseNumber;
    await eventually(() => get(number), (b) => b.targets.length === 4);
    const tooEarly = await request(h.app).post(`/fault-repairs/${number}/part-swaps`).set(as('engineer')).send({ failedSerial: 'FR-SN-SWAP', replacementSerial: 'R-FR-SN-SWAP' });
    expect(tooEarly.status).toBe(409);
    await toOnSite(number, reportedAt, 40 * MINUTE, []);
    const swapped = await request(h.app).post(`/fault-repairs/${number}/part-swaps`).set(as('engineer')).send({ failedSerial: 'FR-SN-SWAP', replacementSerial: 'R-FR-SN-SWAP' });
    expect(swapped.status).toBe(201);
    expect(swapped.body).toMatchObject({
      status: 'awaiting_return',
      relatedCaseNumber: number,
      failedSerial: 'FR-SN-SWAP',
      shipment: { replacementSerial: 'R-FR-SN-SWAP', carrier: 'engineer on site', trackingNumber: number },
      returnDeadline: { provisional: false },
    });
    expect(swapped.body.decision.comment).toBe(`authorised with repair plan v1 of ${number}`);
    // The same part cannot be swapped twice while its loan is open.
    expect((await request(h.app).post(`/fault-repairs/${number}/part-swaps`).set(as('engineer')).send({ failedSerial: 'FR-SN-SWAP', replacementSerial: 'R2' })).status).toBe(409);
  });

  test('high-risk work still running when the window closes: recorded and the managers told at once; not fixed -> escalated', async () => {
    await sleepUntil(h.env, '2026-11-16T17:30:00Z'); // 01:30 Shanghai, inside the window
    const reportedAt = await virtualNow();
    const registered = await register('FR-SN-0003', { severity: 'major', siteId, reportedAt });
    const number: string = registered.body.caseNumber;
    await eventually(() => get(number), (b) => b.targets.length === 4);
    await toOnSite(number, reportedAt, 30 * MINUTE, ['restart']);
    const started = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({});
    expect(started.body).toMatchObject({ status: 'in_progress', maintenanceWindowEndsAt: '2026-11-16T21:00:00.000Z' });

    await sleepUntil(h.env, '2026-11-16T21:01:00Z');
    const [overrun] = await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 高危操作超出维护窗口`), (mails) => mails.length === 1);
    expect(overrun!.text).toContain('2026-11-17 05:00 (UTC+8)');
    let body = await eventually(() => get(number), (b) => b.windowOverrunAt !== null);
    expect(body.timeline.map((e: { action: string }) => e.action)).toContain('fault_repair.window_overrun');

    const finished = await request(h.app).post(`/fault-repairs/${number}/work/finish`).set(as('engineer')).send({ fixed: false, result: 'Restart did not bring the card back' });
    expect(finished.body).toMatchObject({ status: 'escalated', result: 'not_fixed', serviceReport: null });
    expect(target(finished.body, 'restoration')).toMatchObject({ state: 'pending', metAt: null });
    body = await request(h.app).post(`/fault-repairs/${number}/work/finish`).set(as('engineer')).send({ fixed: true, result: 'again' });
    expect(body.status).toBe(409);
  }, 120_000);

  test('solved remotely: restored at the diagnosis, the service report signed -> follow_up', async () => {
    const reportedAt = await virtualNow();
    const registered = await register('FR-SN-0004', { severity: 'minor', reportedAt });
    const number: string = registered.body.caseNumber;
    let body = await eventually(() => get(number), (b) => b.targets.length === 4);
    expect(target(body, 'temporary_solution')).toMatchObject({ dueAt: null, state: 'not_applicable' });
    expect(target(body, 'on_site')).toMatchObject({ dueAt: null, state: 'not_applicable' });
    const solved = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(as('engineer')).send({ outcome: 'solved_remotely', findings: 'Cleared a stuck alarm remotely', restoredAt: after(reportedAt, 20 * MINUTE) });
    expect(solved.body).toMatchObject({ status: 'reporting', result: 'solved_remotely', plan: null, serviceReport: { status: 'awaiting_version' } });
    expect(target(solved.body, 'restoration')).toMatchObject({ state: 'met', metAt: after(reportedAt, 20 * MINUTE) });
    const reportId: string = solved.body.serviceReport.id;
    await request(h.app).post(`/documents/${reportId}/versions`).set(as('engineer')).send({ content: { summary: 'Alarm cleared', workDone: 'Remote login, alarm cleared' } });
    await request(h.app).post(await signatureLink(`Service report ${number}`, 1)).send({ decision: 'signed' });
    body = await eventually(() => get(number), (b) => b.status === 'follow_up');
    expect(body.serviceReport).toMatchObject({ status: 'signed' });
  }, 120_000);
  test('a case committed without its workflow (the start failed) is started by the worker round', async () => {
    const db = h.database.db;
    const device = await company.addDevice('FR-SN-0005');
    const number = 'FR-2026-900001';
    const reportedAt = await virtualNow();
    await db.transaction().execute(async (trx) => {
      const caseId = await insertCase(trx, { kind: 'fault_repair', number, status: 'diagnosis', customerId: company.customerId, deviceId: device.id, workflowId: faultRepairWorkflowId(number), at: new Date(Date.now() - 60_000) });
      await trx
        .insertInto('fault_repairs')
        .values({
          case_id: caseId, case_number: number, customer_id: company.customerId, contact_id: company.contactId, device_id: device.id, site_id: null,
          symptoms: 's', actions_taken: 'a', suspected_cause: 'c', severity: 'serious', status: 'diagnosis', reported_at: reportedAt, registered_by: 'test', registered_by_role: 'service_desk',
        })
        .execute();
    });
    const report = await startMissingProcesses(db, h.env.client, { taskQueue: h.taskQueue, logger: pino({ level: 'silent' }), graceMs: 0 });
    expect(report.started).toEqual([number]);
    const body = await eventually(() => get(number), (b) => b.targets.length === 4);
    expect(target(body, 'phone_response')).toMatchObject({ dueAt: after(reportedAt, 10 * MINUTE) });
  }, 60_000);
});
