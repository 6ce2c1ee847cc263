import request from 'supertest';
import { faultRepairWorkflowId } from '../../workflows/fault-repair/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, sleepUntil } from '../support/probes';
import { MINUTE, after, faultRepairProbes, registerFault } from './support';

// A fault repair becomes an emergency incident: when the repair escalates (the incident takes the
// case over), and when high-risk work overran its maintenance window while users were affected (an
// incident dated at the window's end). Real worker, the test server with time skipping, PostgreSQL, SMTP.
// The virtual clock starts on Monday 2026-11-16 20:00 Asia/Shanghai (12:00Z); the window is 22:00-23:30.
const START_TIME = '2026-11-16T12:00:00Z';
const WINDOW_START = '2026-11-16T14:00:00Z';
const WINDOW_END = '2026-11-16T15:30:00Z';
const ENGINEER_EMAIL = 'engineer@fieldops.test';

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card', 'Restore the configuration and test the ports'],
  window: { start: WINDOW_START, end: WINDOW_END },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'NE40E-LPU', quantity: 1 }],
  highRiskOperations: ['hot_swap'],
};

describe('fault repair -> emergency incident', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let engineerUserId: string;
  let p: ReturnType<typeof faultRepairProbes>;
  const as = (role: 'manager' | 'service_desk' | 'engineer') => bearer(h.tokens[role]);

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' }, customer: { maintenance_window_start_minute: 22 * 60, maintenance_window_end_minute: 23 * 60 + 30 } });
    engineerUserId = (await h.database.db.selectFrom('users').select('id').where('email', '=', ENGINEER_EMAIL).executeTakeFirstOrThrow()).id;
    p = faultRepairProbes(h);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  /** A case with a signed high-risk plan and work started inside the 22:00 window. */
  async function workInProgress(serial: string): Promise<{ number: string; reportedAt: string }> {
    const reportedAt = await p.virtualNow();
    const { response: registered } = await registerFault(h, company, serial, { severity: 'major', reportedAt });
    const number: string = registered.body.caseNumber;
    await eventually(() => p.get(number), (b) => b.targets.length === 4);
    const diagnosed = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(as('engineer')).send({ outcome: 'needs_plan', findings: 'Needs a visit' });
    const planId: string = diagnosed.body.plan.id;
    expect((await request(h.app).post(`/documents/${planId}/versions`).set(as('engineer')).send({ content: PLAN })).status).toBe(201);
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(as('manager')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    expect((await request(h.app).post(await p.signatureLink(`Repair plan ${number}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    await eventually(() => p.get(number), (b) => b.status === 'awaiting_dispatch');
    expect((await request(h.app).post(`/fault-repairs/${number}/dispatch`).set(as('manager')).send({ engineerUserId, appointmentAt: after(reportedAt, 30 * MINUTE) })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/arrival`).set(as('engineer')).send({ arrivedAt: after(reportedAt, 30 * MINUTE) })).status).toBe(200);
    return { number, reportedAt };
  }

  const incidentsOf = (caseId: string) =>
    h.database.db.selectFrom('incidents').select(['case_number', 'origin', 'started_at', 'reported_by_role', 'status']).where('origin_case_id', '=', caseId).orderBy('case_number').execute();

  test('high-risk work overruns its window; users affected -> an incident dated at the end of the window, linked both ways; recorded once', async () => {
    const { number } = await workInProgress('INC-SN-0001');
    await sleepUntil(h.env, after(WINDOW_START, 10 * MINUTE));
    expect((await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({})).status).toBe(200);

    // Before any overrun the impact cannot be recorded.
    const early = await request(h.app).post(`/fault-repairs/${number}/overrun-impact`).set(as('engineer')).send({ usersAffected: true });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('no maintenance-window overrun is recorded');

    await sleepUntil(h.env, after(WINDOW_END, 5 * MINUTE));
    await eventually(() => p.get(number), (b) => b.windowOverrunAt !== null);
    const reported = await request(h.app).post(`/fault-repairs/${number}/overrun-impact`).set(as('engineer')).send({ usersAffected: true, note: 'Slot 3 subscribers still down' });
    expect(reported.status).toBe(200);
    expect(reported.body.status).toBe('in_progress');
    expect(reported.body.incidents).toEqual([{ caseNumber: expect.stringMatching(/^INC-\d{4}-\d{6}$/), origin: 'window_overrun', status: expect.any(String) }]);
    const incidentNumber: string = reported.body.incidents[0].caseNumber;

    const [incident] = await incidentsOf(reported.body.caseId);
    expect(incident).toMatchObject({ case_number: incidentNumber, origin: 'window_overrun', reported_by_role: 'engineer' });
    expect(incident!.started_at.toISOString()).toBe(new Date(WINDOW_END).toISOString());
    await eventually(async () => (await h.env.client.workflow.getHandle(`incident/${incidentNumber}`).describe()).status.name, (status) => status === 'RUNNING');
    const fromIncident = await request(h.app).get(`/incidents/${incidentNumber}`).set(as('manager'));
    expect(fromIncident.status).toBe(200);
    expect(JSON.stringify(fromIncident.body)).toContain(number);

    // Once: a second answer is refused, and no second incident is opened.
    const again = await request(h.app).post(`/fault-repairs/${number}/overrun-impact`).set(as('manager')).send({ usersAffected: true });
    expect(again.status).toBe(409);
    expect(await incidentsOf(reported.body.caseId)).toHaveLength(1);
    // The repair goes on: it is still the engineer's to finish.
    expect((await p.get(number)).waitingFor).toEqual(['engineer']);
  });

  test('the repair escalates (not fixed) -> an incident takes the case over: linked, started when the fault was reported; the fault repair closes as escalated and its SLA clocks stop', async () => {
    await sleepUntil(h.env, '2026-11-17T13:00:00Z');
    const { number, reportedAt } = await workInProgress('INC-SN-0002');
    await sleepUntil(h.env, '2026-11-17T14:10:00Z');
    expect((await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({})).status).toBe(200);
    const finished = await request(h.app).post(`/fault-repairs/${number}/work/finish`).set(as('engineer')).send({ fixed: false, result: 'The new card does not come up either; backplane suspected' });
    expect(finished.status).toBe(200);
    expect(finished.body.status).toBe('escalated');
    expect(finished.body.incidents).toEqual([{ caseNumber: expect.stringMatching(/^INC-/), origin: 'fault_repair_escalation', status: expect.any(String) }]);
    const incidentNumber: string = finished.body.incidents[0].caseNumber;
    const [incident] = await incidentsOf(finished.body.caseId);
    expect(incident!.started_at.toISOString()).toBe(new Date(reportedAt).toISOString());

    // The fault repair's workflow ends, handed over; the incident's runs on.
    await h.env.client.workflow.getHandle(faultRepairWorkflowId(number)).result();
    const closed = await p.get(number);
    expect(closed).toMatchObject({ status: 'escalated', waitingFor: [], closedAt: expect.any(String) });
    expect(closed.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['fault_repair.escalated', 'fault_repair.incident_opened', 'fault_repair.handed_over']));
    expect((await h.env.client.workflow.getHandle(`incident/${incidentNumber}`).describe()).status.name).toBe('RUNNING');

    // Its restoration target (7x24, major) passes unmet: no breach notice from the closed case.
    const missed = (body: { timeline: { action: string }[] }) => body.timeline.filter((e) => e.action === 'fault_repair.target_missed').length;
    const missedAtHandOver = missed(closed);
    await sleepUntil(h.env, '2026-11-20T14:00:00Z');
    expect(missed(await p.get(number))).toBe(missedAtHandOver);
    expect(closed.targets).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'restoration', state: 'pending' })]));
  });
});
