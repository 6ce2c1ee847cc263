import request from 'supertest';
import { faultRepairWorkflowId } from '../../workflows/fault-repair/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, mailsTo, sleepUntil } from '../support/probes';
import { MINUTE, after, faultRepairProbes, registerFault } from './support';

// The customer's own maintenance window (22:00-23:30 China time here) gates high-risk work, and the
// engineer is reminded when it opens. Real worker, the test server with time skipping, PostgreSQL, SMTP.
// The virtual clock starts on Monday 2026-11-16 20:00 Asia/Shanghai (12:00Z).
const START_TIME = '2026-11-16T12:00:00Z';
const ENGINEER_EMAIL = 'engineer@fieldops.test';

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card', 'Restore the configuration and test the ports'],
  window: { start: '2026-11-16T14:00:00Z', end: '2026-11-16T15:30:00Z' },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'NE40E-LPU', quantity: 1 }],
  highRiskOperations: ['hot_swap'],
};

describe('fault repair: the customer\'s maintenance window', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let engineerUserId: string;
  const as = (role: 'manager' | 'service_desk' | 'engineer' | 'admin') => bearer(h.tokens[role]);

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    // 22:00-23:30 China time: minutes 1320-1410.
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' }, customer: { maintenance_window_start_minute: 22 * 60, maintenance_window_end_minute: 23 * 60 + 30 } });
    engineerUserId = (await h.database.db.selectFrom('users').select('id').where('email', '=', ENGINEER_EMAIL).executeTakeFirstOrThrow()).id;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('POST /customers stores the window and the read model shows it; default 00:00-05:00; malformed is a 400 naming the field', async () => {
    const base = { name: 'Beijing Unicom', customerClass: 'A', slaClass: '7x24', billingDay: 20 };
    const created = await request(h.app).post('/customers').set(as('manager')).send({ ...base, code: 'BJ-UNI-MW', maintenanceWindow: { start: '22:00', end: '23:30' } });
    expect(created.status).toBe(201);
    expect(created.body.maintenanceWindow).toEqual({ start: '22:00', end: '23:30' });
    const read = await request(h.app).get(`/customers/${created.body.id}`).set(as('service_desk'));
    expect(read.status).toBe(200);
    expect(read.body.maintenanceWindow).toEqual({ start: '22:00', end: '23:30' });
    const row = await h.database.db.selectFrom('customers').select(['maintenance_window_start_minute', 'maintenance_window_end_minute']).where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ maintenance_window_start_minute: 1320, maintenance_window_end_minute: 1410 });

    const byDefault = await request(h.app).post('/customers').set(as('manager')).send({ ...base, code: 'BJ-UNI-DEF' });
    expect(byDefault.status).toBe(201);
    expect(byDefault.body.maintenanceWindow).toEqual({ start: '00:00', end: '05:00' });

    const malformed = await request(h.app).post('/customers').set(as('manager')).send({ ...base, code: 'BJ-UNI-BAD', maintenanceWindow: { start: '25:00', end: '23:30' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'maintenanceWindow.start' })]);
    const notHhMm = await request(h.app).post('/customers').set(as('manager')).send({ ...base, code: 'BJ-UNI-BAD', maintenanceWindow: { start: '10pm', end: '23:30' } });
    expect(notHhMm.status).toBe(400);
    expect(notHhMm.body.error.details).toEqual([expect.objectContaining({ field: 'maintenanceWindow.start' })]);
    const backwards = await request(h.app).post('/customers').set(as('manager')).send({ ...base, code: 'BJ-UNI-BAD', maintenanceWindow: { start: '23:30', end: '22:00' } });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details).toEqual([expect.objectContaining({ field: 'maintenanceWindow.end' })]);
    expect(await h.database.db.selectFrom('customers').select('id').where('code', '=', 'BJ-UNI-BAD').execute()).toEqual([]);
  });

  test('a 22:00-23:30 window: work at 21:00 refused naming 22:00, the engineer reminded at 22:00, work at 22:10 accepted', async () => {
    const p = faultRepairProbes(h);
    const reportedAt = await p.virtualNow();
    const { response: registered } = await registerFault(h, company, 'MW-SN-0001', { severity: 'major', reportedAt });
    expect(registered.status).toBe(201);
    const number: string = registered.body.caseNumber;
    await eventually(() => p.get(number), (b) => b.targets.length === 4);

    // Remote diagnosis, a high-risk plan approved and signed, dispatch, arrival (the pattern of toOnSite).
    const diagnosed = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(as('engineer')).send({ outcome: 'needs_plan', findings: 'Needs a visit' });
    expect(diagnosed.status).toBe(200);
    const planId: string = diagnosed.body.plan.id;
    expect((await request(h.app).post(`/documents/${planId}/versions`).set(as('engineer')).send({ content: PLAN })).status).toBe(201);
    expect((await request(h.app).post(`/documents/${planId}/decisions`).set(as('manager')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    expect((await request(h.app).post(await p.signatureLink(`Repair plan ${number}`, 1)).send({ decision: 'signed' })).status).toBe(200);
    await eventually(() => p.get(number), (b) => b.status === 'awaiting_dispatch');
    expect((await request(h.app).post(`/fault-repairs/${number}/dispatch`).set(as('manager')).send({ engineerUserId, appointmentAt: after(reportedAt, 30 * MINUTE) })).status).toBe(200);
    expect((await request(h.app).post(`/fault-repairs/${number}/arrival`).set(as('engineer')).send({ arrivedAt: after(reportedAt, 30 * MINUTE) })).status).toBe(200);

    // 21:00 China time: outside the customer's window -> 409 naming 22:00 today.
    await sleepUntil(h.env, '2026-11-16T13:00:00Z');
    const outside = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({});
    expect(outside.status).toBe(409);
    expect(outside.body.error.message).toContain('maintenance window 22:00-23:30 Asia/Shanghai');
    expect(outside.body.error.message).toContain('next window starts 2026-11-16T22:00:00+08:00');
    expect(mailsTo(h.smtp, ENGINEER_EMAIL, `[${number}] 维护窗口`)).toEqual([]);

    // 22:00: the window opens and the engineer is reminded, once.
    await sleepUntil(h.env, '2026-11-16T14:00:00Z');
    const [reminder] = await eventually(() => mailsTo(h.smtp, ENGINEER_EMAIL, `[${number}] 维护窗口现已开启，至 23:30`), (mails) => mails.length === 1);
    expect(reminder!.text).toContain(`The maintenance window for ${number} opens now, until 23:30`);
    const reminded = await eventually(() => p.get(number), (b) => b.timeline.some((e: { action: string }) => e.action === 'fault_repair.window_reminder'));
    expect(reminded.status).toBe('on_site');

    // 22:10: inside the window, work starts; the window ends at 23:30 China time.
    await sleepUntil(h.env, '2026-11-16T14:10:00Z');
    const started = await request(h.app).post(`/fault-repairs/${number}/work/start`).set(as('engineer')).send({});
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: 'in_progress', maintenanceWindowEndsAt: '2026-11-16T15:30:00.000Z' });

    // Work started: no more reminders the next evening.
    await sleepUntil(h.env, '2026-11-17T14:05:00Z');
    const body = await p.get(number);
    expect(body.timeline.filter((e: { action: string }) => e.action === 'fault_repair.window_reminder')).toHaveLength(1);
    // The reminder's timer is behind its patch (older histories replay without it).
    const history = await h.env.client.workflow.getHandle(faultRepairWorkflowId(number)).fetchHistory();
    expect((history.events ?? []).some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(true);
    expect(mailsTo(h.smtp, ENGINEER_EMAIL, `[${number}] 维护窗口现已开启`)).toHaveLength(1);
  });
});
