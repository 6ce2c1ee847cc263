import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { z } from 'zod';
import { createSignedLinks } from '../../activities/shared/signed-links';
import { SIGN_DOCUMENT_ACTION, documentVersionScope } from '../../activities/sign-off/activities';
import { defineLinkAction } from '../../api/routes/links';
import { insertDocument } from '../../db/repositories/documents';
import { createTestApp, testConfig, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { createContact, createCustomer } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, pause } from '../support/probes';

/**
 * Signed links beyond test/api/error-model-and-auth.test.ts (tampered, expired, used) and the
 * sign-off tests (a superseded document version): a link used out of its scope, and a single-use
 * link replayed concurrently.
 */
describe('signed links: scope and concurrent replay', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  const performed: string[] = [];
  const confirm = defineLinkAction({
    action: 'test.confirm',
    summary: 'Confirm something',
    body: z.object({ note: z.string().max(20) }),
    perform: async ({ claims, body }) => {
      // Slow enough that concurrent uses overlap inside the action.
      await pause(50);
      performed.push(`${claims.caseId}:${body.note}`);
      return { confirmed: true };
    },
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, { linkActions: [confirm] });
  });
  afterAll(() => database.drop());

  test('a single-use link sent 12 times at once acts exactly once: one 200, eleven 410 link_used', async () => {
    const { token } = testSignedLinks().issue({ caseId: 'case-race', action: 'test.confirm', singleUse: true });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => request(app).post(`/links/${token}`).send({ note: `try ${index}` })));
    const statuses = answers.map((response) => response.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(11).fill(410)]);
    for (const response of answers.filter((answer) => answer.status === 410)) expect(response.body.error.code).toBe('link_used');
    expect(performed.filter((entry) => entry.startsWith('case-race:'))).toHaveLength(1);
    const uses = await database.db.selectFrom('signed_link_uses').selectAll().where('case_id', '=', 'case-race').execute();
    expect(uses).toHaveLength(1);
  });

  test('a link signed for an action this API does not take is a 401 link_invalid, and acts nowhere', async () => {
    const { token } = testSignedLinks().issue({ caseId: 'case-scope', action: 'spare_part.confirm_receipt_of_something_else', singleUse: true });
    for (const response of [await request(app).get(`/links/${token}`), await request(app).post(`/links/${token}`).send({ note: 'x' })]) {
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'link_invalid', details: { reason: 'unknown action' } });
    }
    expect(performed.filter((entry) => entry.startsWith('case-scope:'))).toEqual([]);
  });

  test('a link whose action gives no evidence access is refused on the evidence routes (401), before any upload is read', async () => {
    const { token } = testSignedLinks().issue({ caseId: 'case-evidence', action: 'test.confirm', singleUse: false });
    const list = await request(app).get(`/links/${token}/evidence`);
    expect(list.status).toBe(401);
    expect(list.body.error).toMatchObject({ code: 'link_invalid', details: { reason: 'the link does not give access to evidence' } });
    const upload = await request(app).post(`/links/${token}/evidence`).attach('files', Buffer.from('%PDF-1.4\n'), 'a.pdf');
    expect(upload.status).toBe(401);
    expect(upload.body.error.code).toBe('link_invalid');
  });

  test('a link signed with another secret (another deployment) is a 401 link_invalid', async () => {
    const foreign = createSignedLinks({ secret: 'another-deployment-secret-of-at-least-32-chars', publicBaseUrl: testConfig.publicBaseUrl, ttlHours: 24, now: () => new Date() });
    const { token } = foreign.issue({ caseId: 'case-foreign', action: 'test.confirm', singleUse: true });
    const response = await request(app).post(`/links/${token}`).send({ note: 'x' });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('link_invalid');
    expect(performed.filter((entry) => entry.startsWith('case-foreign:'))).toEqual([]);
  });
});

describe('signed links: a signature link of a superseded document version (real sign-off process)', () => {
  let h: ProcessHarness;
  const PLAN = {
    summary: 'Replace the failed line card in slot 3',
    steps: ['Back up the configuration', 'Swap the card'],
    window: { start: '2026-12-10T16:00:00Z', end: '2026-12-10T19:00:00Z' },
    rollback: 'Put the old card back',
    parts: [{ productCode: 'OLT-LC-16', quantity: 1 }],
    highRiskOperations: ['hot_swap'],
  };

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
  }, 120_000);
  afterAll(() => h.close());

  test('the version 1 link, still unexpired, cannot sign once version 2 is out: 409 naming the current version; the version 2 link signs', async () => {
    const as = (role: 'manager' | 'engineer') => ({ Authorization: `Bearer ${h.tokens[role]}` });
    const customer = await createCustomer(h.database.db);
    const contactId = (await createContact(h.database.db, customer.id)).id;
    const caseId = (
      await h.database.db
        .insertInto('cases')
        .values({ kind: 'fault_repair', number: 'FR-2026-000001', status: 'planning', customer_id: customer.id, device_id: null, workflow_id: 'fault-repair/FR-2026-000001' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    const { id: documentId, workflowId } = await insertDocument(h.database.db, {
      id: randomUUID(), caseId, kind: 'repair_plan', title: 'Repair plan', steps: ['manager_approval', 'customer_signature'], contactId, createdBy: 'test',
    });
    await h.env.client.workflow.start('signOffWorkflow', { workflowId, taskQueue: h.taskQueue, args: [{ documentId, caseId, kind: 'repair_plan', steps: ['manager_approval', 'customer_signature'] }] });
    const linkOf = (version: number) => testSignedLinks().issue({ caseId: documentVersionScope(documentId, version), action: SIGN_DOCUMENT_ACTION, singleUse: false }).token;
    const status = async () => (await request(h.app).get(`/documents/${documentId}`).set(as('manager'))).body as { status: string; currentVersion: number; waitingFor: string | null };

    expect((await request(h.app).post(`/documents/${documentId}/versions`).set(as('engineer')).send({ content: PLAN, reason: null })).status).toBe(201);
    expect((await request(h.app).post(`/documents/${documentId}/decisions`).set(as('manager')).send({ version: 1, decision: 'approved' })).status).toBe(200);
    const v1 = linkOf(1);
    expect((await request(h.app).post(`/links/${v1}`).send({ decision: 'objected', comment: 'Test the rollback first' })).status).toBe(200);
    await eventually(status, (document) => document.status === 'returned');
    expect((await request(h.app).post(`/documents/${documentId}/versions`).set(as('engineer')).send({ content: { ...PLAN, rollback: 'Rollback tested' }, reason: 'Rollback tested' })).status).toBe(201);
    expect((await request(h.app).post(`/documents/${documentId}/decisions`).set(as('manager')).send({ version: 2, decision: 'approved' })).status).toBe(200);

    const stale = await request(h.app).post(`/links/${v1}`).send({ decision: 'signed' });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'version_superseded', details: { currentVersion: 2 } });
    expect(await status()).toMatchObject({ status: 'in_review', currentVersion: 2, waitingFor: 'customer_signature' });
    expect((await request(h.app).post(`/links/${linkOf(2)}`).send({ decision: 'signed' })).body).toMatchObject({ version: 2, status: 'signed' });
  });
});
