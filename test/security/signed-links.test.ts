import request from 'supertest';
import { z } from 'zod';
import { createSignedLinks } from '../../activities/shared/signed-links';
import { defineLinkAction } from '../../api/routes/links';
import { createTestApp, testConfig, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { pause } from '../support/probes';

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
