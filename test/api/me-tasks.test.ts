import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { insertDocument } from '../../db/repositories/documents';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually } from '../support/probes';
import { applyForSparePart } from '../support/spare-part';

// GET /me/tasks: what waits for each role, across processes (spare-part loans, documents in sign-off).

describe('GET /me/tasks', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  const tasksOf = async (role: 'manager' | 'engineer' | 'service_desk' | 'billing') =>
    (await request(h.app).get('/me/tasks').set(bearer(h.tokens[role])).expect(200)).body.items as { kind: string; caseNumber: string; title: string; href: string }[];

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [] });
  });
  afterAll(() => h.close());

  test("a manager's inbox holds loans to approve and documents to approve; the desk's the loans to ship; an author's the versions sent back", async () => {
    await company.addDevice('SN-TASK-1');
    await company.addDevice('SN-TASK-2');
    const pending = (await applyForSparePart(h, company, 'SN-TASK-1').expect(201)).body.loanNumber as string;
    const toShip = (await applyForSparePart(h, company, 'SN-TASK-2').expect(201)).body.loanNumber as string;
    await request(h.app).post(`/spare-parts/${toShip}/approve`).set(bearer(h.tokens.manager)).send({}).expect(200);

    const registered = await h.database.db
      .insertInto('cases')
      .values({ kind: 'fault_repair', number: 'FR-2026-009001', status: 'planning', customer_id: company.customerId, device_id: null, workflow_id: 'fault-repair/FR-2026-009001' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const plans: string[] = [];
    for (const title of ['Plan in review', 'Plan sent back']) {
      const { id, workflowId } = await insertDocument(h.database.db, { id: randomUUID(), caseId: registered.id, kind: 'repair_plan', title, steps: ['manager_approval', 'customer_signature'], contactId: company.contactId, createdBy: 'test' });
      await h.env.client.workflow.start('signOffWorkflow', { workflowId, taskQueue: h.taskQueue, args: [{ documentId: id, caseId: registered.id, kind: 'repair_plan', steps: ['manager_approval', 'customer_signature'] }] });
      plans.push(id);
    }
    const plan = { summary: 'Swap the card', steps: ['Swap it'], window: { start: '2026-12-10T16:00:00Z', end: '2026-12-10T19:00:00Z' }, rollback: 'Swap back' };
    for (const id of plans) await request(h.app).post(`/documents/${id}/versions`).set(bearer(h.tokens.engineer)).send({ content: plan }).expect(201);
    await request(h.app).post(`/documents/${plans[1]}/decisions`).set(bearer(h.tokens.manager)).send({ version: 1, decision: 'rejected', comment: 'No rollback test' }).expect(200);

    const manager = await tasksOf('manager');
    expect(manager.filter((task) => task.kind === 'approve_loan').map((task) => task.caseNumber)).toEqual([pending]);
    expect(manager.filter((task) => task.kind === 'decide_document').map((task) => task.href)).toEqual([`/documents/${plans[0]}`]);
    expect((await tasksOf('service_desk')).map((task) => [task.kind, task.caseNumber])).toEqual([['ship_loan', toShip]]);
    expect((await tasksOf('engineer')).map((task) => [task.kind, task.href])).toEqual([['revise_document', `/documents/${plans[1]}`]]);
    expect(await tasksOf('billing')).toEqual([]);

    // Once the manager approves, the plan leaves the manager's inbox (it waits for the customer now).
    await request(h.app).post(`/documents/${plans[0]}/decisions`).set(bearer(h.tokens.manager)).send({ version: 1, decision: 'approved' }).expect(200);
    await eventually(tasksOf.bind(null, 'manager'), (tasks) => !tasks.some((task) => task.kind === 'decide_document'));
  });

  test('fault repair: the desk must call back before the phone-response target, engineers may diagnose; the deadline is the SLA target', async () => {
    await company.addDevice('SN-TASK-FR');
    const registered = await request(h.app)
      .post('/fault-repairs')
      .set(bearer(h.tokens.service_desk))
      .send({ customerId: company.customerId, contactId: company.contactId, deviceSerial: 'SN-TASK-FR', symptoms: 'Ports down', actionsTaken: 'None', suspectedCause: 'Card', severity: 'major' })
      .expect(201);
    const caseNumber: string = registered.body.caseNumber;
    const detail = await eventually(
      async () => (await request(h.app).get(`/fault-repairs/${caseNumber}`).set(bearer(h.tokens.manager))).body,
      (body) => Array.isArray(body.targets) && body.targets.length > 0,
    );
    const phoneDue = (detail.targets as { name: string; dueAt: string }[]).find((target) => target.name === 'phone_response')!.dueAt;
    const desk = await tasksOf('service_desk');
    expect(desk.filter((task) => task.caseNumber === caseNumber)).toEqual([expect.objectContaining({ kind: 'record_first_response', href: `/fault-repairs/${caseNumber}` })]);
    // Tasks with a deadline come first, and this one's is the target's.
    expect(desk[0]).toMatchObject({ caseNumber, dueAt: new Date(phoneDue).toISOString() });
    expect((await tasksOf('engineer')).filter((task) => task.caseNumber === caseNumber).map((task) => task.kind).sort()).toEqual(['diagnose', 'record_first_response']);
  });
});
