import request from 'supertest';
import { incidentWorkflowId } from '../../workflows/incident/definitions';
import { signOffWorkflowId } from '../../workflows/sign-off/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';
import { CHIEF_EMAIL, CONTACT_EMAIL, MANAGER_EMAIL, SENIOR_EMAIL, incidentProbes, saveHistory, seedIncidentPeople, type IncidentPeople } from './support';

// Recovery end to end: the contingency plan started and emailed to everyone involved, the expert
// group formed and changed, and the recovery plan through the sign-off with the test the manager
// requires: a failed test sends it back to the group, the customer's objection too, the third
// version is signed; the customer implements it without restoring the service, so the plan reopens
// and a fourth version goes through every step again. The virtual clock starts on Tuesday
// 2026-11-17 09:00 Asia/Shanghai (01:00Z).
const START_TIME = '2026-11-17T01:00:00.000Z';
const ENGINEER_EMAIL = 'engineer@fieldops.test';

describe('incident recovery', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let people: IncidentPeople;
  let p: ReturnType<typeof incidentProbes>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [] });
    people = await seedIncidentPeople(h);
    p = incidentProbes(h);
    await company.addDevice('RP-1');
  }, 60_000);
  afterAll(() => h?.close());

  test('contingency plan and expert group, then a recovery plan: a failed test returns it to the group, the customer objects once, then confirms; implemented by the customer without restoring, it needs a new version', async () => {
    const senior = bearer(people.senior.token);
    const plan = await request(h.app)
      .post('/contingency-plans')
      .set(p.as('manager'))
      .send({ customerId: company.customerId, productId: company.productId, title: 'Metro ring failover', steps: ['Switch traffic to the standby ring', 'Tell the NOC'], ownerUserId: people.chief.id });
    expect(plan.status).toBe(201);
    const otherCustomer = await seedServiceCompany(h.database.db, { roles: [], customer: { code: 'OTHER', name: 'Other Co' }, contact: { email: 'other@other.test' }, product: { code: 'OTHER-P' } });
    expect((await request(h.app).post('/contingency-plans').set(p.as('manager')).send({ customerId: otherCustomer.customerId, title: 'Not theirs', steps: ['x'], ownerUserId: people.chief.id })).status).toBe(201);
    expect((await request(h.app).get(`/contingency-plans?customerId=${company.customerId}`).set(p.as('engineer'))).body.total).toBe(1);

    const notice = await p.notice(company, 'RP-1', 'Metro ring A down');
    const number: string = notice.body.caseNumber;

    // The expert group: exactly one coordinator, each added member emailed.
    const twoCoordinators = await request(h.app)
      .put(`/incidents/${number}/expert-group`)
      .set(p.as('manager'))
      .send({ members: [{ userId: people.engineerId, specialty: 'network', coordinator: true }, { userId: people.senior.id, specialty: 'host', coordinator: true }] });
    expect(twoCoordinators.status).toBe(400);
    const formed = await request(h.app)
      .put(`/incidents/${number}/expert-group`)
      .set(p.as('manager'))
      .send({ members: [{ userId: people.engineerId, specialty: 'network', coordinator: true }, { userId: people.senior.id, specialty: 'host' }] });
    expect(formed.status).toBe(200);
    expect(formed.body.expertGroup.members).toMatchObject([
      { userId: people.engineerId, specialty: 'network', coordinator: true },
      { userId: people.senior.id, specialty: 'host', coordinator: false },
    ]);
    await eventually(() => mailsTo(h.smtp, ENGINEER_EMAIL, '您已加入专家服务小组（协调人）'), (mails) => mails.length === 1);
    await eventually(() => mailsTo(h.smtp, SENIOR_EMAIL, '您已加入专家服务小组'), (mails) => mails.length === 1);

    // Graded: the customer's contingency plan for this product starts and goes to everyone involved.
    const graded = await p.grade(number, { affectedUsers: 3500 });
    expect(graded.body.level).toBe(2);
    expect(graded.body.contingencyPlans).toMatchObject([{ title: 'Metro ring failover', steps: ['Switch traffic to the standby ring', 'Tell the NOC'], ownerUserId: people.chief.id }]);
    for (const email of [CHIEF_EMAIL, ENGINEER_EMAIL, SENIOR_EMAIL, MANAGER_EMAIL]) {
      await eventually(() => mailsTo(h.smtp, email, `[${number}] 启动应急预案：Metro ring failover`), (mails) => mails.length === 1);
    }
    const [contingencyMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Contingency plan started: Metro ring failover`), (mails) => mails.length === 1);
    expect(contingencyMail!.text).toContain('1. Switch traffic to the standby ring');
    expect(mailsTo(h.smtp, 'other@other.test', 'Not theirs')).toHaveLength(0);

    // The group changes: the senior engineer leaves, the chief engineer joins for the database; only the newcomer is emailed.
    const changed = await request(h.app)
      .put(`/incidents/${number}/expert-group`)
      .set(p.as('manager'))
      .send({ members: [{ userId: people.engineerId, specialty: 'network', coordinator: true }, { userId: people.chief.id, specialty: 'database' }] });
    expect(changed.status).toBe(200);
    expect(changed.body.expertGroup.members.map((member: { userId: string }) => member.userId)).toEqual([people.engineerId, people.chief.id]);
    expect(changed.body.expertGroup.changes).toHaveLength(3);
    expect(changed.body.expertGroup.changes.find((change: { userId: string }) => change.userId === people.senior.id).removedBy).toBe('manager user');
    expect(changed.body.timeline.filter((event: { action: string }) => event.action === 'incident.expert_group_changed')).toHaveLength(2);
    await eventually(() => mailsTo(h.smtp, CHIEF_EMAIL, '您已加入专家服务小组'), (mails) => mails.length === 1);
    expect(mailsTo(h.smtp, ENGINEER_EMAIL, '您已加入专家服务小组')).toHaveLength(1);

    // The recovery plan, with the test the manager requires.
    const title = `Recovery plan ${number}`;
    const started = await request(h.app).post(`/incidents/${number}/recovery-plans`).set(p.as('manager')).send({ title, testRequired: true });
    expect(started.status).toBe(201);
    const documentId: string = started.body.recoveryPlans[0].documentId;
    expect(started.body.recoveryPlans[0].document.steps).toEqual(['manager_approval', 'acceptance_test', 'customer_signature']);
    expect((await request(h.app).post(`/incidents/${number}/recovery-plans`).set(p.as('manager')).send({ title: 'Another', testRequired: false })).status).toBe(409);

    const submit = async (version: number) => {
      const response = await request(h.app).post(`/documents/${documentId}/versions`).set(p.as('engineer')).send({ content: { summary: `Swap the line card (v${version})`, steps: ['Drain traffic', 'Swap the card', 'Verify'] } });
      expect(response.status).toBe(201);
      expect(response.body.currentVersion).toBe(version);
    };
    const decide = async (auth: { Authorization: string }, version: number, decision: string, comment: string | null = null) => {
      const response = await request(h.app).post(`/documents/${documentId}/decisions`).set(auth).send({ version, decision, comment });
      expect(response.status).toBe(200);
      return response.body;
    };
    const customer = async (version: number, decision: 'signed' | 'objected', comment: string | null = null) => {
      const [mail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `Please sign: ${title} (version ${version})`), (mails) => mails.length === 1);
      const response = await request(h.app).post(linkPathIn(mail!)!).send({ decision, comment });
      expect(response.status).toBe(200);
    };

    // v1: approved, then the test fails: back to the group (its author).
    await submit(1);
    expect((await decide(p.as('manager'), 1, 'approved')).waitingFor).toBe('acceptance_test');
    // The test is decided with passed or failed, by a senior engineer or a manager; an engineer may not.
    expect((await request(h.app).post(`/documents/${documentId}/decisions`).set(p.as('manager')).send({ version: 1, decision: 'approved' })).status).toBe(422);
    expect((await request(h.app).post(`/documents/${documentId}/decisions`).set(senior).send({ version: 1, decision: 'failed' })).status).toBe(400);
    const failed = await decide(senior, 1, 'failed', 'The card does not boot in the lab');
    expect(failed.status).toBe('returned');
    await eventually(() => mailsTo(h.smtp, ENGINEER_EMAIL, `Sent back for revision: ${title} (version 1)`).concat(mailsTo(h.smtp, ENGINEER_EMAIL, `已退回修改：${title}（第 1 版）`)), (mails) => mails.length === 1);
    expect(mailsTo(h.smtp, CONTACT_EMAIL, `Please sign: ${title}`)).toHaveLength(0);

    // v2: approved, tested, the customer objects once.
    await submit(2);
    await decide(p.as('manager'), 2, 'approved');
    expect((await decide(senior, 2, 'passed')).waitingFor).toBe('customer_signature');
    await customer(2, 'objected', 'Not during business hours');
    await p.until(number, (b) => b.recoveryPlans[0].document.status === 'returned');

    // v3: through every step, and the customer confirms.
    await submit(3);
    await decide(p.as('manager'), 3, 'approved');
    await decide(senior, 3, 'passed');
    await customer(3, 'signed');
    const incident = await p.until(number, (b) => b.recoveryPlans[0].document.status === 'signed');
    const decisions = incident.recoveryPlans[0].document.versions.flatMap((version: { version: number; decisions: { step: string; decision: string }[] }) =>
      version.decisions.map((decision) => `v${version.version} ${decision.step} ${decision.decision}`),
    );
    expect(decisions).toEqual([
      'v1 manager_approval approved',
      'v1 acceptance_test failed',
      'v2 manager_approval approved',
      'v2 acceptance_test passed',
      'v2 customer_signature objected',
      'v3 manager_approval approved',
      'v3 acceptance_test passed',
      'v3 customer_signature signed',
    ]);

    // The customer implements it themselves; the service is not restored: the plan needs a new version.
    const implementedAt = await p.virtualNow();
    const notRestored = await request(h.app)
      .post(`/incidents/${number}/recovery-plans/${documentId}/implementation`)
      .set(p.as('engineer'))
      .send({ implementedBy: 'customer', implementedAt, restored: false, note: 'Customer swapped the card; ring still down' });
    expect(notRestored.status).toBe(200);
    expect(notRestored.body.recoveryPlans[0].implementations).toEqual([{ version: 3, implementedBy: 'customer', implementedAt, restored: false, note: 'Customer swapped the card; ring still down', recordedBy: 'engineer user' }]);
    await p.until(number, (b) => b.recoveryPlans[0].document.status === 'awaiting_version');
    // Not signed now: nothing to implement until the new version is.
    expect((await request(h.app).post(`/incidents/${number}/recovery-plans/${documentId}/implementation`).set(p.as('engineer')).send({ implementedBy: 'our_team', implementedAt, restored: true })).status).toBe(409);

    await submit(4);
    await decide(p.as('manager'), 4, 'approved');
    await decide(senior, 4, 'passed');
    await customer(4, 'signed');
    await p.until(number, (b) => b.recoveryPlans[0].document.status === 'signed' && b.recoveryPlans[0].document.currentVersion === 4);
    const implemented = await request(h.app)
      .post(`/incidents/${number}/recovery-plans/${documentId}/implementation`)
      .set(p.as('engineer'))
      .send({ implementedBy: 'our_team', implementedAt: await p.virtualNow(), restored: true, note: null });
    expect(implemented.status).toBe(200);
    expect(implemented.body.recoveryPlans[0].implementations.map((i: { version: number; restored: boolean }) => [i.version, i.restored])).toEqual([
      [3, false],
      [4, true],
    ]);

    const restoredAt = await p.virtualNow();
    const restored = await request(h.app).post(`/incidents/${number}/restoration`).set(p.as('engineer')).send({ interruptedAt: notice.body.startedAt, restoredAt });
    expect(restored.status).toBe(200);
    expect(restored.body.status).toBe('restored');

    await saveHistory(h, incidentWorkflowId(number), 'incident-recovery-plan-four-versions.binpb');
    await saveHistory(h, signOffWorkflowId(documentId), 'sign-off-recovery-plan-with-test.binpb');
  }, 120_000);

  test('/me/tasks: the manager grades a new incident; an engineer restores it', async () => {
    await company.addDevice('RP-2');
    const notice = await p.notice(company, 'RP-2', 'Storage array offline');
    const number: string = notice.body.caseNumber;
    const kinds = async (auth: { Authorization: string }) =>
      ((await request(h.app).get('/me/tasks').set(auth)).body.items as { kind: string; caseNumber: string }[]).filter((task) => task.caseNumber === number).map((task) => task.kind);
    expect(await kinds(p.as('manager'))).toEqual(['grade_incident']);
    expect(await kinds(p.as('engineer'))).toEqual(['restore_incident']);
    expect(await kinds(p.as('service_desk'))).toEqual([]);
  });
});
