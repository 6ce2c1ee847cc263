import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { faultRepairWorkflowId } from '../../workflows/fault-repair/definitions';
import { signOffWorkflowId } from '../../workflows/sign-off/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, mailsTo, sleepUntil } from '../support/probes';
import { CONTACT_EMAIL, DAY, MINUTE, after, faultRepairProbes, registerFault, solveRemotelyToFollowUp } from './support';

// Fault repair: a changed plan on site goes through the sign-off again; the desk re-books the visit;
// the write-up is chased. Full harness with time skipping; the virtual clock starts on Monday
// 2026-11-16 16:00 Asia/Shanghai (08:00Z), outside the maintenance window (00:00-05:00 Shanghai).
const START_TIME = '2026-11-16T08:00:00Z';

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card', 'Restore the configuration and test the ports'],
  window: { start: '2026-11-16T16:00:00Z', end: '2026-11-16T21:00:00Z' },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'NE40E-LPU', quantity: 1 }],
  highRiskOperations: ['hot_swap'],
};

const FAULT_REPORT = (reportedAt: string, restoredAt: string) => ({
  reportedAt,
  remoteSupportAt: null,
  onSiteAt: null,
  restoredAt,
  engineers: ['Zhang Wei'],
  symptomsAndImpact: 'Alarm storm on slot 3',
  resolutionProcess: 'Remote login, alarm cleared',
  rootCause: 'A latched alarm',
  solution: 'Cleared the alarm',
  preventionAdvice: 'Patch the firmware',
});

type Event = { action: string; comment: string | null };

describe('fault repair: re-plan on site, re-booking the appointment, the write-up chased', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let p: ReturnType<typeof faultRepairProbes>;
  let engineerUserId: string;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
    p = faultRepairProbes(h);
    engineerUserId = (await h.database.db.selectFrom('users').select('id').where('email', '=', 'engineer@fieldops.test').executeTakeFirstOrThrow()).id;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const submit = (planId: string, content: unknown, reason: string | null = null) => request(h.app).post(`/documents/${planId}/versions`).set(p.as('engineer')).send({ content, reason });
  const decide = (planId: string, version: number, decision: 'approved' | 'rejected', comment?: string) =>
    request(h.app).post(`/documents/${planId}/decisions`).set(p.as('manager')).send({ version, decision, comment });

  /** Registered, diagnosed, the plan signed in version `signedIn` (the earlier ones rejected by the manager), dispatched. Returns the plan's id. */
  async function toDispatched(serial: string, signedIn: number, highRiskOperations: string[]): Promise<{ number: string; planId: string; reportedAt: string }> {
    const reportedAt = await p.virtualNow();
    const { response } = await registerFault(h, company, serial, { severity: 'major', reportedAt });
    expect(response.status).toBe(201);
    const number: string = response.body.caseNumber;
    await eventually(() => p.get(number), (b) => b.targets.length === 4);
    const diagnosed = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(p.as('engineer')).send({ outcome: 'needs_plan', findings: 'Needs a visit' });
    expect(diagnosed.status).toBe(200);
    const planId: string = diagnosed.body.plan.id;
    for (let version = 1; version < signedIn; version++) {
      expect((await submit(planId, { ...PLAN, highRiskOperations })).status).toBe(201);
      expect((await decide(planId, version, 'rejected', 'Not yet')).status).toBe(200);
    }
    expect((await submit(planId, { ...PLAN, highRiskOperations })).status).toBe(201);
    expect((await decide(planId, signedIn, 'approved')).status).toBe(200);
    expect((await request(h.app).post(await p.signatureLink(`Repair plan ${number}`, signedIn)).send({ decision: 'signed' })).status).toBe(200);
    await eventually(() => p.get(number), (b) => b.status === 'awaiting_dispatch');
    const dispatched = await request(h.app).post(`/fault-repairs/${number}/dispatch`).set(p.as('manager')).send({ engineerUserId, appointmentAt: after(reportedAt, 40 * MINUTE) });
    expect(dispatched.status).toBe(200);
    return { number, planId, reportedAt };
  }

  async function toOnSite(serial: string, signedIn: number, highRiskOperations: string[]) {
    const dispatched = await toDispatched(serial, signedIn, highRiskOperations);
    const arrived = await request(h.app).post(`/fault-repairs/${dispatched.number}/arrival`).set(p.as('engineer')).send({ arrivedAt: await p.virtualNow() });
    expect(arrived.body).toMatchObject({ status: 'on_site', highRiskOperations });
    return dispatched;
  }

  /** The engineer's revised version, approved by the manager and signed by the customer: the case is back on site. */
  async function resign(number: string, planId: string, version: number, content: unknown) {
    const submitted = await submit(planId, content, 'Found a second faulty card on site');
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ status: 'in_review', currentVersion: version, waitingFor: 'manager_approval' });
    expect((await decide(planId, version, 'approved')).body).toMatchObject({ waitingFor: 'customer_signature' });
    const signed = await request(h.app).post(await p.signatureLink(`Repair plan ${number}`, version)).send({ decision: 'signed' });
    expect(signed.body).toMatchObject({ version, status: 'signed' });
    return eventually(() => p.get(number), (b) => b.status === 'on_site');
  }

  test('re-plan on site: back to planning (work start refused), v4 approved and signed -> back on site; no high-risk operations left: work starts outside the window', async () => {
    const { number, planId } = await toOnSite('RP-SN-0001', 3, ['hot_swap']);
    // Only the engineer, only on site, only with a reason.
    expect((await request(h.app).post(`/fault-repairs/${number}/plan/revise`).set(p.as('service_desk')).send({ reason: 'x' })).status).toBe(403);
    expect((await request(h.app).post(`/fault-repairs/${number}/plan/revise`).set(p.as('engineer')).send({})).status).toBe(400);

    const revised = await request(h.app).post(`/fault-repairs/${number}/plan/revise`).set(p.as('engineer')).send({ reason: 'The backplane is damaged too' });
    expect(revised.status).toBe(200);
    expect(revised.body).toMatchObject({ status: 'planning', plan: { id: planId, currentVersion: 3 } });
    // The plan itself reads as reopened: v3 carries the reopening with its reason, and v4 is awaited from its author.
    const reopened = (await request(h.app).get(`/documents/${planId}`).set(p.as('manager'))).body;
    expect(reopened).toMatchObject({ status: 'awaiting_version', currentVersion: 3, waitingFor: null });
    expect(reopened.versions[2].decisions.at(-1)).toMatchObject({ step: 'reopening', decision: 'reopened', comment: 'The backplane is damaged too', role: 'engineer' });
    const engineerTasks = (await request(h.app).get('/me/tasks').set(p.as('engineer'))).body.items as { kind: string; href: string; title: string }[];
    expect(engineerTasks).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'revise_document', href: `/documents/${planId}`, title: expect.stringContaining('Write version 4') })]));

    // Meanwhile: no work, no second re-plan.
    const start = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(p.as('engineer')).send({});
    expect(start.status).toBe(409);
    expect(start.body.error.message).toContain('waits for its repair plan to be signed');
    expect((await request(h.app).post(`/fault-repairs/${number}/plan/revise`).set(p.as('engineer')).send({ reason: 'again' })).status).toBe(409);

    // v4 without high-risk operations: manager approval, then the customer's signature.
    const body = await resign(number, planId, 4, { ...PLAN, steps: ['Replace the backplane (cold, service already down)'], highRiskOperations: [] });
    expect(body.plan).toMatchObject({ id: planId, status: 'signed', currentVersion: 4 });
    expect(body.highRiskOperations).toEqual([]);
    const actions = body.timeline.map((e: Event) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['fault_repair.plan_reopened', 'document.version_submitted', 'fault_repair.revised_plan_signed']));
    expect(body.timeline.find((e: Event) => e.action === 'fault_repair.plan_reopened').comment).toBe('The backplane is damaged too');
    const versions = await h.database.db.selectFrom('document_versions').select('version').where('document_id', '=', planId).orderBy('version').execute();
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);

    // 16:xx Shanghai, outside the window: the signed v4 has no high-risk operations, so work starts.
    const started = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(p.as('engineer')).send({});
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: 'in_progress', maintenanceWindowEndsAt: null });

    if (process.env.SAVE_WORKFLOW_HISTORIES === '1') {
      // The case through a re-plan on site, and the plan's second sign-off run (v4).
      fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
      for (const [workflowId, file] of [
        [faultRepairWorkflowId(number), 'fault-repair-replanned-on-site.binpb'],
        [signOffWorkflowId(planId), 'sign-off-reopened-v4.binpb'],
      ] as const) {
        fs.writeFileSync(path.join(__dirname, 'histories', file), temporal.api.history.v1.History.encode(await h.env.client.workflow.getHandle(workflowId).fetchHistory()).finish());
      }
    }
  }, 180_000);

  test('re-plan adding a high-risk operation: back on site, work only in the maintenance window', async () => {
    const { number, planId } = await toOnSite('RP-SN-0002', 1, []);
    expect((await request(h.app).post(`/fault-repairs/${number}/plan/revise`).set(p.as('engineer')).send({ reason: 'Needs a hot swap after all' })).status).toBe(200);
    const body = await resign(number, planId, 2, { ...PLAN, highRiskOperations: ['hot_swap'] });
    expect(body.highRiskOperations).toEqual(['hot_swap']);

    const outside = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(p.as('engineer')).send({});
    expect(outside.status).toBe(409);
    expect(outside.body.error.message).toContain('next window starts 2026-11-17T00:00:00+08:00');
    await sleepUntil(h.env, '2026-11-16T16:30:00Z'); // 00:30 Shanghai
    const started = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(p.as('engineer')).send({});
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: 'in_progress', maintenanceWindowEndsAt: '2026-11-16T21:00:00.000Z' });
  }, 180_000);

  test('the desk re-books the appointment: a second invitation for the same calendar entry with a higher SEQUENCE; only while dispatched', async () => {
    const { number, reportedAt } = await toDispatched('RP-SN-0003', 1, []);
    const subject = `[${number}] Engineer appointment`;
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, subject), (mails) => mails.length === 1);
    await h.env.sleep(5 * MINUTE);

    const newTime = after(reportedAt, 3 * 60 * MINUTE);
    expect((await request(h.app).post(`/fault-repairs/${number}/appointment`).set(p.as('engineer')).send({ appointmentAt: newTime })).status).toBe(403);
    const booked = await request(h.app).post(`/fault-repairs/${number}/appointment`).set(p.as('service_desk')).send({ appointmentAt: newTime });
    expect(booked.status).toBe(200);
    expect(booked.body).toMatchObject({ status: 'dispatched', appointmentAt: newTime });
    const mails = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, subject), (found) => found.length === 2);

    const invite = (i: number) => (mails[i]!.calendars ?? []).join('\n');
    const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();
    expect(field(invite(0), 'UID')).toBe(`${number}/appointment@fieldops`);
    expect(field(invite(1), 'UID')).toBe(`${number}/appointment@fieldops`);
    expect(Number(field(invite(1), 'SEQUENCE'))).toBeGreaterThan(Number(field(invite(0), 'SEQUENCE')));
    expect(field(invite(1), 'DTSTART')).toBe(new Date(newTime).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''));
    expect(mails[1]!.text).toContain(new Date(Date.parse(newTime) + 8 * 60 * MINUTE).toISOString().slice(0, 16).replace('T', ' '));

    // Re-booked once more: a third, higher again.
    const third = after(reportedAt, 4 * 60 * MINUTE);
    expect((await request(h.app).post(`/fault-repairs/${number}/appointment`).set(p.as('manager')).send({ appointmentAt: third })).status).toBe(200);
    const all = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, subject), (found) => found.length === 3);
    expect(Number(field((all[2]!.calendars ?? []).join('\n'), 'SEQUENCE'))).toBeGreaterThan(Number(field(invite(1), 'SEQUENCE')));
    const timeline = (await p.get(number)).timeline.filter((e: Event) => e.action === 'fault_repair.appointment_booked');
    expect(timeline).toHaveLength(2);

    // Once the engineer is on site, there is nothing to book.
    expect((await request(h.app).post(`/fault-repairs/${number}/arrival`).set(p.as('engineer')).send({})).status).toBe(200);
    const late = await request(h.app).post(`/fault-repairs/${number}/appointment`).set(p.as('service_desk')).send({ appointmentAt: third });
    expect(late.status).toBe(409);
  }, 180_000);

  test('the write-up not in at its deadline: the engineer chased, sent back with a comment (emailed), the managers told a day later', async () => {
    const reportedAt = await p.virtualNow();
    const { response } = await registerFault(h, company, 'RP-SN-0004', { severity: 'minor', reportedAt });
    const number: string = response.body.caseNumber;
    const restoredAt = reportedAt;
    const { body } = await solveRemotelyToFollowUp(h, number, restoredAt, { summary: 'Alarm cleared', workDone: 'Remote login' });
    const dueAt: string = body.writeUp.dueAt;
    expect(dueAt).toBe(after(restoredAt, 7 * DAY));
    // The fault report and the call in time: only the write-up is left to chase.
    expect((await request(h.app).post(`/fault-repairs/${number}/fault-report`).set(p.as('engineer')).send(FAULT_REPORT(reportedAt, restoredAt))).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/follow-up-call`).set(p.as('service_desk')).send({ reached: true })).status).toBe(200);

    await sleepUntil(h.env, after(dueAt, -MINUTE));
    expect(mailsTo(h.smtp, 'engineer@fieldops.test', `[${number}] 总结报告到期`)).toHaveLength(0);
    await sleepUntil(h.env, after(dueAt, MINUTE));
    const [chase] = await eventually(() => mailsTo(h.smtp, 'engineer@fieldops.test', `[${number}] 总结报告到期`), (mails) => mails.length === 1);
    expect(chase!.text).toContain('总结报告已到期');
    expect(mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 总结报告逾期`)).toHaveLength(0);
    let state = await eventually(() => p.get(number), (b) => b.writeUp.chasedAt !== null);
    expect(state.writeUp).toMatchObject({ state: 'awaiting', escalatedAt: null });

    // Submitted late, sent back: the engineer gets the manager's comment.
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up`).set(p.as('engineer')).send({ summary: 'Alarm latched', lessons: 'Check alarms' })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(p.as('manager')).send({ decision: 'returned', comment: 'Name the firmware bug' })).status).toBe(200);
    const [returned] = await eventually(() => mailsTo(h.smtp, 'engineer@fieldops.test', `[${number}] 总结报告第 1 版被退回`), (mails) => mails.length === 1);
    expect(returned!.text).toContain('Name the firmware bug');

    // Still not in (sent back) a day after the deadline: the managers are told.
    await sleepUntil(h.env, after(dueAt, DAY + MINUTE));
    await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 总结报告逾期`), (mails) => mails.length === 1);
    state = await eventually(() => p.get(number), (b) => b.writeUp.escalatedAt !== null);
    expect(state.timeline.map((e: Event) => e.action)).toEqual(expect.arrayContaining(['fault_repair.write_up_chase', 'fault_repair.write_up_overdue']));

    // v2 approved: closed; nobody chased twice.
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up`).set(p.as('engineer')).send({ summary: 'Firmware bug DTS2026110001', lessons: 'Check latched alarms' })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/write-up/review`).set(p.as('manager')).send({ decision: 'approved' })).status).toBe(200);
    await eventually(() => p.get(number), (b) => b.status === 'closed');
    expect(mailsTo(h.smtp, 'engineer@fieldops.test', `[${number}] 总结报告到期`)).toHaveLength(1);
  }, 180_000);
});
