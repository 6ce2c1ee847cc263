import request from 'supertest';
import { incidentWorkflowId } from '../../workflows/incident/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, mailsTo, sleepUntil } from '../support/probes';
import { CONTACT_EMAIL, HOUR, after, incidentProbes, saveHistory, seedIncidentPeople } from './support';

// The manager's grading end to end, with the history it reads from the database: a repeat within
// 3 months raises the level; the same symptom within 24 h of a recovery continues that incident
// (which reopens, its close-out round cancelled); the third occurrence is a new incident a level
// higher; a lower level is refused naming the rule; a customer-stated cause reports it from level 3;
// and the manager may decide it is not an incident (a linked fault repair goes on).
// The virtual clock starts on Monday 2026-11-16 09:00 Asia/Shanghai (01:00Z).
const START_TIME = '2026-11-16T01:00:00.000Z';
const SYMPTOM = 'Board 3 reboots repeatedly';

const codes = (body: { grading: { rules: { code: string }[] } }) => body.grading.rules.map((rule) => rule.code);

describe('incident grading', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let p: ReturnType<typeof incidentProbes>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [] });
    await seedIncidentPeople(h);
    p = incidentProbes(h);
    await company.addDevice('GR-1');
    await company.addDevice('GR-2');
  }, 60_000);
  afterAll(() => h?.close());

  const restore = async (number: string) => {
    const incident = await p.get(number);
    const restoredAt = await p.virtualNow();
    const response = await request(h.app).post(`/incidents/${number}/restoration`).set(p.as('engineer')).send({ interruptedAt: incident.startedAt, restoredAt });
    expect(response.status).toBe(200);
    return restoredAt;
  };

  let first: string;
  let second: string;

  test('graded from the tables; a second incident of the same customer, site and product within 3 months is raised one level; a lower regrade is refused naming the rule', async () => {
    const a = await p.notice(company, 'GR-1', SYMPTOM);
    expect(a.status).toBe(201);
    first = a.body.caseNumber;
    const gradedA = await p.grade(first, { serviceLostPercent: 80 });
    expect(gradedA.status).toBe(200);
    expect(gradedA.body).toMatchObject({ level: 2, status: 'in_recovery', grading: { level: 2, rulesLevel: 2, gradedBy: 'manager user' } });
    expect(codes(gradedA.body)).toEqual(['network_service_share']);

    const b = await p.notice(company, 'GR-2', 'Fan alarm and packet loss on the aggregation switch');
    second = b.body.caseNumber;
    const gradedB = await p.grade(second, { serviceLostPercent: 80 });
    expect(gradedB.status).toBe(200);
    expect(gradedB.body.level).toBe(1);
    expect(codes(gradedB.body)).toEqual(['network_service_share', 'repeat_within_3_months']);
    expect(gradedB.body.grading.rules[1].en).toContain(first);

    // Less impact now: the rules give level 2, below the level 1 already given. Refused, naming the rule.
    const lower = await p.grade(second, { serviceLostPercent: 40 });
    expect(lower.status).toBe(422);
    expect(lower.body.error.code).toBe('business_rule_violated');
    expect(lower.body.error.message).toContain('a level is never lowered');
    expect(lower.body.error.details).toMatchObject({ rule: 'never_lowered', currentLevel: 1, proposedLevel: 2 });
    expect((await p.get(second)).level).toBe(1);
    // More impact is a regrade that stands (still level 1 here, with the new rules).
    const same = await p.grade(second, { serviceLostPercent: 100 });
    expect(same.status).toBe(200);
    expect(same.body.level).toBe(1);
  });

  test('the same symptom within 24 h of the recovery continues the incident: the notice says so, the incident reopens (its close-out round cancelled) and its ladder goes on', async () => {
    const restoredAt = await restore(first);
    await p.until(first, (b) => b.closeOut?.round === 1 && b.closeOut.status === 'reporting');
    await sleepUntil(h.env, after(restoredAt, 3 * HOUR));

    // Same device, same symptom written differently.
    const again = await p.notice(company, 'GR-1', '  board 3 REBOOTS repeatedly. ');
    expect(again.status).toBe(201);
    expect(again.body.status).toBe('continued');
    expect(again.body.linkedCases).toEqual([{ caseNumber: first, kind: 'incident', relation: 'continues' }]);
    const continuation: string = again.body.caseNumber;

    const reopened = await p.until(first, (b) => b.status === 'in_recovery');
    expect(reopened).toMatchObject({ reopenedCount: 1, restoredAt: null, level: 2 });
    expect(reopened.linkedCases).toEqual([{ caseNumber: continuation, kind: 'incident', relation: 'continued_by' }]);
    // The ladder counts again from the reopening.
    await p.until(first, (b) => b.ladder.nextEscalationAt !== null);
    await p.until(first, (b) => b.closeOut?.status === 'superseded');
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${first}] Incident status: reopened`), (mails) => mails.length === 1);
    // The continuation itself waits for nothing.
    const handedOver = await p.until(continuation, (b) => b.closedAt !== null);
    expect(handedOver.status).toBe('continued');
    expect((await p.grade(continuation, { serviceLostPercent: 80 })).status).toBe(409);
    await saveHistory(h, incidentWorkflowId(continuation), 'incident-continuation-notice.binpb');
  });

  test('the third occurrence within 24 h of a recovery is a new incident, one level above the first', async () => {
    const restoredAt = await restore(first);
    await p.until(first, (b) => b.closeOut?.round === 2 && b.closeOut.previousRounds.length === 1);
    await sleepUntil(h.env, after(restoredAt, 2 * HOUR));

    const third = await p.notice(company, 'GR-1', SYMPTOM);
    expect(third.status).toBe(201);
    expect(third.body.status).toBe('registered');
    const number: string = third.body.caseNumber;
    // Its own impact gives level 3; the incident it repeats was level 2: one above that.
    const graded = await p.grade(number, { serviceLostPercent: 40 });
    expect(graded.status).toBe(200);
    expect(graded.body.level).toBe(1);
    expect(codes(graded.body)).toEqual(['network_service_share', 'recurrence_third_occurrence']);
    expect(graded.body.grading.rules[1].en).toContain(first);
    // The first incident stays restored: nothing continued it this time.
    expect((await p.get(first)).status).toBe('restored');

    const open = await request(h.app).get(`/incidents?status=open&minLevel=1&customerId=${company.customerId}`).set(p.as('service_desk'));
    expect(open.body.items.map((item: { caseNumber: string }) => item.caseNumber).sort()).toEqual([second, number].sort());
    const levelTwoOrWorse = await request(h.app).get(`/incidents?minLevel=2&customerId=${company.customerId}`).set(p.as('service_desk'));
    expect(levelTwoOrWorse.body.total).toBe(3);
    await saveHistory(h, incidentWorkflowId(first), 'incident-continued-and-restored-twice.binpb');
  });

  test('bad input is a 400 naming the field; an unknown incident a 404', async () => {
    const fields = (response: { status: number; body: { error: { details: { field: string }[] } } }) => {
      expect(response.status).toBe(400);
      return response.body.error.details.map((detail) => detail.field);
    };
    const now = await p.virtualNow();
    expect(fields(await p.notice(company, 'NOT-OURS', SYMPTOM))).toEqual(['deviceSerial']);
    expect(fields(await p.notice(company, 'GR-2', SYMPTOM, { startedAt: after(now, HOUR), reportedAt: now }))).toEqual(['startedAt']);
    expect(fields(await p.grade(second, { serviceLostPercent: 120 }))).toEqual(['impact.serviceLostPercent']);
    expect(fields(await request(h.app).put(`/incidents/${second}/expert-group`).set(p.as('manager')).send({ members: [{ userId: '00000000-0000-4000-8000-000000000000', specialty: 'network', coordinator: true }] }))).toEqual(['members.0.userId']);
    expect(fields(await request(h.app).post(`/incidents/${second}/restoration`).set(p.as('engineer')).send({ interruptedAt: now, restoredAt: after(now, -HOUR) }))).toEqual(['restoredAt']);
    expect(fields(await request(h.app).get('/incidents/FR-2026-000001').set(p.as('engineer')))).toEqual(['caseNumber']);
    expect((await request(h.app).get('/incidents/INC-2026-999999').set(p.as('engineer'))).status).toBe(404);
    // Grading is the manager's.
    expect((await request(h.app).post(`/incidents/${second}/grading`).set(p.as('engineer')).send({ decision: 'incident', impact: { serviceLostPercent: 80 } })).status).toBe(403);
  });

  test("a cause the customer states is theirs reports the incident from level 3, the statement recorded; the manager may decide a notice is not an incident: it goes on as a linked fault repair", async () => {
    const other = await seedServiceCompany(h.database.db, {
      roles: [],
      customer: { code: 'CT-BJ', name: 'Beijing Telecom' },
      contact: { email: 'wang@ct.test', name: 'Wang Fang' },
      product: { code: 'S9300', name: 'Core switch' },
    });
    await other.addDevice('CT-1');
    await other.addDevice('CT-2');
    const notice = await p.notice(other, 'CT-1', 'Whole machine room dark');
    const graded = await p.grade(notice.body.caseNumber, { serviceLostPercent: 100 }, { customerStatedCause: { cause: 'power', statement: 'Our UPS failed during maintenance' } });
    expect(graded.status).toBe(200);
    expect(graded.body).toMatchObject({ level: 3, grading: { level: 3, rulesLevel: 1, customerStatedCause: { cause: 'power', statement: 'Our UPS failed during maintenance' } } });
    expect(codes(graded.body)).toEqual(['network_service_share', 'customer_stated_cause']);

    const minor = await p.notice(other, 'CT-2', 'One port flapping');
    const decided = await request(h.app)
      .post(`/incidents/${minor.body.caseNumber}/grading`)
      .set(p.as('manager'))
      .send({ decision: 'not_an_incident', reason: 'One port, no users affected', faultRepair: { severity: 'minor', actionsTaken: 'Reseated the cable', suspectedCause: 'Optical module' } });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('not_an_incident');
    const faultRepair = decided.body.linkedCases.find((link: { relation: string }) => link.relation === 'fault_repair');
    expect(faultRepair.caseNumber).toMatch(/^FR-2026-\d{6}$/);
    expect(decided.body.notAnIncident).toEqual({ reason: 'One port, no users affected', faultRepairCaseNumber: faultRepair.caseNumber });
    const repair = await request(h.app).get(`/fault-repairs/${faultRepair.caseNumber}`).set(p.as('service_desk'));
    expect(repair.status).toBe(200);
    expect(repair.body).toMatchObject({ deviceSerial: 'CT-2', symptoms: 'One port flapping', severity: 'minor' });
    expect(repair.body.timeline.map((event: { action: string }) => event.action)).toContain('fault_repair.from_incident');
    // Decided: no grading any more.
    expect((await p.grade(minor.body.caseNumber, { serviceLostPercent: 100 })).status).toBe(409);
    await saveHistory(h, incidentWorkflowId(minor.body.caseNumber), 'incident-not-an-incident.binpb');
  });
});
