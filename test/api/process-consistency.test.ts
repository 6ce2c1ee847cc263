import request from 'supertest';
import { checkProcessConsistency } from '../../api/shared/process-consistency';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer } from '../support/probes';
import { applyForSparePart } from '../support/spare-part';

describe('orphan check: cases and workflows out of step (GET /admin/consistency, process_not_running)', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  const as = (role: 'admin' | 'manager' | 'service_desk') => bearer(h.tokens[role]);

  async function applyForLoan(serial: string): Promise<string> {
    await company.addDevice(serial);
    const applied = await applyForSparePart(h, company, serial, { faultDescription: 'board dead', deliveryAddress: '1 Bund, Shanghai' });
    expect(applied.status).toBe(201);
    return applied.body.loanNumber as string;
  }

  const workflowIdOf = async (number: string) =>
    (await h.database.db.selectFrom('cases').select('workflow_id').where('number', '=', number).executeTakeFirstOrThrow()).workflow_id;

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, {
      customer: { code: 'CU-SH', name: 'China Unicom Shanghai' },
      contact: { name: 'Wang Fang', email: 'wangfang@cu.test' },
      product: { code: 'OSN-8800', name: 'OTN board', list_price_cents: 800_000 },
      roles: [], // the harness has made the users already
    });
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
