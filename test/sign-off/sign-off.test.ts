import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { insertDocument } from '../../db/repositories/documents';
import { signOffWorkflowId, type SignOffState } from '../../workflows/sign-off/definitions';
import { createContact, createCustomer } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';

// The sign-off piece on its own (no parent process): a repair plan through manager approval and the
// customer's signature, round after round until both sides have signed. Real worker, test server,
// PostgreSQL and SMTP; the customer acts through the signed link from the email.

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card', 'Restore the configuration and test the ports'],
  window: { start: '2026-12-10T16:00:00Z', end: '2026-12-10T19:00:00Z' },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'OLT-LC-16', quantity: 1 }],
  highRiskOperations: ['hot_swap'],
};

describe('sign-off: versions, decisions and comments until both sides sign', () => {
  let h: ProcessHarness;
  let caseId: string;
  let contactId: string;
  const as = (role: 'manager' | 'engineer' | 'service_desk') => ({ Authorization: `Bearer ${h.tokens[role]}` });
  const mailsTo = (email: string, subjectPart: string) => h.smtp.received.filter((mail) => mail.to.includes(email) && mail.subject.includes(subjectPart));

  async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const started = Date.now();
    for (;;) {
      const value = await probe();
      if (accept(value)) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A repair-plan document on the case, its sign-off running. */
  async function newPlan(): Promise<string> {
    const { id, workflowId } = await insertDocument(h.database.db, {
      id: randomUUID(),
      caseId,
      kind: 'repair_plan',
      title: 'Repair plan',
      steps: ['manager_approval', 'customer_signature'],
      contactId,
      createdBy: 'test',
    });
    await h.env.client.workflow.start('signOffWorkflow', {
      workflowId,
      taskQueue: h.taskQueue,
      args: [{ documentId: id, caseId, kind: 'repair_plan', steps: ['manager_approval', 'customer_signature'] }],
    });
    return id;
  }

  const submit = (documentId: string, content: unknown, reason: string | null = null) =>
    request(h.app).post(`/documents/${documentId}/versions`).set(as('engineer')).send({ content, reason });
  const decide = (documentId: string, version: number, decision: 'approved' | 'rejected', comment?: string) =>
    request(h.app).post(`/documents/${documentId}/decisions`).set(as('manager')).send({ version, decision, comment });
  /** The signature link of `version`, from the email the customer received. */
  async function signatureLink(version: number): Promise<string> {
    const [mail] = await eventually(() => mailsTo('lilei@cmcc.test', `Please sign: Repair plan (version ${version})`), (mails) => mails.length === 1);
    const url = /https?:\/\/\S+\/links\/(\S+)/.exec(mail!.text)?.[1];
    expect(url).toBeDefined();
    return url!;
  }

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    const db = h.database.db;
    const customer = await createCustomer(db, { code: 'CMCC', name: 'China Mobile Shanghai', customer_class: 'A', sla_class: '7x24' });
    const contact = await createContact(db, customer.id, { name: 'Li Lei', email: 'lilei@cmcc.test', locale: 'en' });
    contactId = contact.id;
    const registered = await db
      .insertInto('cases')
      .values({ kind: 'fault_repair', number: 'FR-2026-000001', status: 'planning', customer_id: customer.id, device_id: null, workflow_id: 'fault-repair/FR-2026-000001' })
      .returning('id')
      .executeTakeFirstOrThrow();
    caseId = registered.id;
  });
  afterAll(() => h.close());

  test('rejected by the manager, objected to by the customer, then approved and signed: every version, decision and comment is kept', async () => {
    const documentId = await newPlan();
    let document = (await request(h.app).get(`/documents/${documentId}`).set(as('service_desk'))).body;
    expect(document).toMatchObject({ status: 'awaiting_version', currentVersion: 0, waitingFor: null, versions: [] });

    // v1: the manager sends it back.
    expect((await submit(documentId, PLAN)).body).toMatchObject({ status: 'in_review', currentVersion: 1, waitingFor: 'manager_approval' });
    // Staff are asked in Chinese: the manager gets the approval request for v1.
    await eventually(() => mailsTo('manager@fieldops.test', '待经理审批：Repair plan（第 1 版）'), (mails) => mails.length === 1);
    const rejected = await decide(documentId, 1, 'rejected', 'The window overlaps the customer busy hour; move it');
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'returned', waitingFor: null });

    // v2: approved by the manager, then the customer objects through the link.
    const v2 = await submit(documentId, { ...PLAN, window: { start: '2026-12-11T16:00:00Z', end: '2026-12-11T19:00:00Z' } }, 'Moved to the next night');
    expect(v2.body).toMatchObject({ status: 'in_review', currentVersion: 2, waitingFor: 'manager_approval' });
    expect((await decide(documentId, 2, 'approved')).body).toMatchObject({ status: 'in_review', waitingFor: 'customer_signature' });
    const v2Link = await signatureLink(2);
    const objected = await request(h.app).post(`/links/${v2Link}`).send({ decision: 'objected', comment: 'We need the rollback tested first' });
    expect(objected.status).toBe(200);
    expect(objected.body).toMatchObject({ version: 2, status: 'returned' });

    // v3: approved and signed.
    await submit(documentId, { ...PLAN, rollback: 'Tested rollback: put the old card back, restore the backup' }, 'Rollback tested');
    expect((await decide(documentId, 3, 'approved')).status).toBe(200);
    const v3Link = await signatureLink(3);
    expect((await request(h.app).post(`/links/${v3Link}`).send({ decision: 'signed' })).body).toMatchObject({ version: 3, status: 'signed' });

    document = (await request(h.app).get(`/documents/${documentId}`).set(as('service_desk'))).body;
    expect(document).toMatchObject({ status: 'signed', currentVersion: 3, waitingFor: null });
    expect(document.versions.map((version: { version: number; reason: string | null }) => [version.version, version.reason])).toEqual([
      [1, null],
      [2, 'Moved to the next night'],
      [3, 'Rollback tested'],
    ]);
    expect(document.versions.map((version: { decisions: { step: string; decision: string; comment: string | null }[] }) => version.decisions.map((decision) => [decision.step, decision.decision, decision.comment]))).toEqual([
      [['manager_approval', 'rejected', 'The window overlaps the customer busy hour; move it']],
      [
        ['manager_approval', 'approved', null],
        ['customer_signature', 'objected', 'We need the rollback tested first'],
      ],
      [
        ['manager_approval', 'approved', null],
        ['customer_signature', 'signed', null],
      ],
    ]);
    // The manager's approvals name the high-risk operations they authorise.
    expect(document.versions[2].decisions[0]).toMatchObject({ step: 'manager_approval', decision: 'approved', authorisedHighRiskOperations: ['hot_swap'] });
    expect(document.versions[0].decisions[0].authorisedHighRiskOperations).toBeUndefined();
    expect(document.versions[1].content.window).toEqual({ start: '2026-12-11T16:00:00Z', end: '2026-12-11T19:00:00Z' });

    const result = await h.env.client.workflow.getHandle(signOffWorkflowId(documentId)).result();
    expect(result as SignOffState).toMatchObject({ status: 'signed', version: 3, step: null });
    // Each signature request was emailed once; the engineer heard of each return.
    expect(mailsTo('lilei@cmcc.test', 'Please sign')).toHaveLength(2);
    await eventually(() => mailsTo('engineer@fieldops.test', '已退回修改：Repair plan'), (mails) => mails.length === 2);
  });

  test('a decision on a superseded version is refused naming the current one; the link to it too; rows are append-only', async () => {
    const documentId = await newPlan();
    await submit(documentId, PLAN);
    await decide(documentId, 1, 'rejected', 'Add the parts list');
    await submit(documentId, PLAN, 'Parts added');
    const stale = await decide(documentId, 1, 'approved');
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'version_superseded', details: { currentVersion: 2 } });

    await decide(documentId, 2, 'approved');
    // Now waiting for the customer: a manager cannot decide that step.
    const wrongStep = await request(h.app).post(`/documents/${documentId}/decisions`).set(as('manager')).send({ version: 2, decision: 'approved' });
    expect(wrongStep.status).toBe(403);

    await expect(h.database.db.updateTable('document_versions').set({ reason: 'rewritten' }).where('document_id', '=', documentId).execute()).rejects.toThrow(/append-only/);
    await expect(h.database.db.deleteFrom('document_decisions').where('document_id', '=', documentId).execute()).rejects.toThrow(/append-only/);
  });

  test('bad input is a 4xx naming the field: content per kind, a rejection without a comment, an unknown document', async () => {
    const documentId = await newPlan();
    const badPlan = await submit(documentId, { ...PLAN, steps: [], highRiskOperations: ['juggling'] });
    expect(badPlan.status).toBe(400);
    expect(badPlan.body.error.details.map((detail: { field: string }) => detail.field).sort()).toEqual(['content.highRiskOperations.0', 'content.steps']);
    await submit(documentId, PLAN);
    const noComment = await decide(documentId, 1, 'rejected');
    expect(noComment.status).toBe(400);
    expect(noComment.body.error.details[0].field).toBe('comment');
    expect((await request(h.app).get(`/documents/${randomUUID()}`).set(as('manager'))).status).toBe(404);
    expect((await request(h.app).post(`/documents/${documentId}/versions`).set(as('service_desk')).send({ content: PLAN })).status).toBe(403);
  });
});
