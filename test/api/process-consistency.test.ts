import request from 'supertest';
import { checkProcessConsistency } from '../../api/shared/process-consistency';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';

describe('orphan check: cases and workflows out of step (GET /admin/consistency, process_not_running)', () => {
  let h: ProcessHarness;
  let customerId: string;
  let contactId: string;
  const as = (role: 'admin' | 'manager' | 'service_desk') => ({ Authorization: `Bearer ${h.tokens[role]}` });

  async function applyForLoan(serial: string): Promise<string> {
    const db = h.database.db;
    const product = await db.selectFrom('products').select('id').executeTakeFirstOrThrow();
    await db.insertInto('devices').values({ serial, product_id: product.id, customer_id: customerId, site_id: null, warranty_end: '2027-03-31', first_power_on_at: null }).execute();
    const applied = await request(h.app)
      .post('/spare-parts')
      .set(as('service_desk'))
      .send({ customerId, contactId, failedSerial: serial, faultDescription: 'board dead', deliveryAddress: '1 Bund, Shanghai' });
    expect(applied.status).toBe(201);
    return applied.body.loanNumber as string;
  }

  const workflowIdOf = async (number: string) =>
    (await h.database.db.selectFrom('cases').select('workflow_id').where('number', '=', number).executeTakeFirstOrThrow()).workflow_id;

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    const db = h.database.db;
    customerId = (
      await db
        .insertInto('customers')
        .values({ code: 'CU-SH', name: 'China Unicom Shanghai', customer_class: 'A', sla_class: '7x24', billing_day: 25, spare_part_first: true, downgraded_at: null })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    contactId = (await db.insertInto('contacts').values({ customer_id: customerId, name: 'Wang Fang', email: 'wangfang@cu.test', locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow()).id;
    await db.insertInto('products').values({ code: 'OSN-8800', name: 'OTN board', product_line: 'network', list_price_cents: 800_000 }).execute();
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  test('finds a case whose workflow was terminated, one whose workflow is gone, and a workflow without a case row', async () => {
    const healthy = await applyForLoan('SN-OK');
    const terminated = await applyForLoan('SN-TERM');
    const deleted = await applyForLoan('SN-GONE');
    await h.env.client.workflow.getHandle(await workflowIdOf(terminated)).terminate('test: terminated by hand');
    const deletedId = await workflowIdOf(deleted);
    await h.env.client.workflow.getHandle(deletedId).terminate('test');
    await h.env.client.workflowService.deleteWorkflowExecution({ namespace: h.env.namespace ?? 'default', workflowExecution: { workflowId: deletedId } });
    const stray = await h.env.client.workflow.start('sparePartLoanWorkflow', { taskQueue: h.taskQueue, workflowId: 'spare-part/SP-1999-999999', args: [{ loanNumber: 'SP-1999-999999' }] });

    const report = await checkProcessConsistency(h.database.db, h.env.client, { taskQueue: h.taskQueue, graceMs: 0, now: new Date(Date.now() + 1_000) });
    expect(report.orphanedCases.map((entry) => [entry.caseNumber, entry.problem, entry.workflowStatus]).sort()).toEqual(
      [
        [deleted, 'workflow_missing', null],
        [terminated, 'workflow_closed', 'TERMINATED'],
      ].sort(),
    );
    expect(report.orphanedCases.map((entry) => entry.caseNumber)).not.toContain(healthy);
    expect(report.workflowsWithoutCase.map((entry) => entry.workflowId)).toEqual([stray.workflowId]);
    await stray.terminate('test cleanup');
  });

  test('a step on a case whose workflow does not exist is 409 process_not_running; one whose workflow ended is process_closed', async () => {
    const gone = await applyForLoan('SN-GONE-2');
    const goneId = await workflowIdOf(gone);
    await h.env.client.workflow.getHandle(goneId).terminate('test');
    const closedAnswer = await request(h.app).post(`/spare-parts/${gone}/approve`).set(as('manager')).send({});
    expect(closedAnswer.status).toBe(409);
    expect(closedAnswer.body.error.code).toBe('process_closed');

    await h.env.client.workflowService.deleteWorkflowExecution({ namespace: h.env.namespace ?? 'default', workflowExecution: { workflowId: goneId } });
    const answer = await request(h.app).post(`/spare-parts/${gone}/approve`).set(as('manager')).send({});
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('process_not_running');
    expect(answer.body.error.message).toContain('does not exist');
    expect(answer.body.error.message).not.toContain('already finished');
  });

  test('GET /admin/consistency is for admins and reports in the documented shape', async () => {
    expect((await request(h.app).get('/admin/consistency').set(as('manager'))).status).toBe(403);
    const answer = await request(h.app).get('/admin/consistency').set(as('admin'));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ openCases: expect.any(Number), runningWorkflows: expect.any(Number), orphanedCases: expect.any(Array), workflowsWithoutCase: expect.any(Array) });
    // Cases younger than the grace period are not judged yet.
    expect(answer.body.orphanedCases).toEqual([]);
  });
});
