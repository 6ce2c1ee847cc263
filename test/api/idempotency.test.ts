import { sql } from 'kysely';
import request from 'supertest';
import { z } from 'zod';
import { defineLinkAction } from '../../api/routes/links';
import { purgeExpiredIdempotencyKeys } from '../../db/repositories/idempotency-keys';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { bearer } from '../support/probes';

/** A promise and the function that settles it: lets a test hold a request in flight. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('Idempotency-Key on POST', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;
  const links = testSignedLinks();
  let slowAction = gate();
  let slowActionStarted = gate();
  let failuresLeft = 0;
  const performed: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, {
      links,
      linkActions: [
        defineLinkAction({
          action: 'test.note',
          summary: 'Leave a note',
          body: z.object({ note: z.string() }),
          perform: async ({ claims, body }) => {
            performed.push(body.note);
            return { caseId: claims.caseId, note: body.note, count: performed.length };
          },
        }),
        defineLinkAction({
          action: 'test.slow',
          summary: 'Takes until the test lets it finish',
          body: z.object({}),
          perform: async () => {
            slowActionStarted.open();
            await slowAction.opened;
            return { done: true };
          },
        }),
        defineLinkAction({
          action: 'test.flaky',
          summary: 'Fails on the server side while failuresLeft > 0',
          body: z.object({}),
          perform: async () => {
            if (failuresLeft > 0) {
              failuresLeft -= 1;
              throw new Error('the database went away');
            }
            return { ok: true };
          },
        }),
      ],
    });
    tokens = await createUsers(database.db, ['service_desk', 'manager']);
  });
  afterAll(() => database.drop());

  const desk = () => bearer(tokens.service_desk);
  const customer = (code: string) => ({ code, name: `Customer ${code}`, customerClass: 'B', slaClass: 'NBD', billingDay: 5 });
  const countCustomers = async () => Number((await database.db.selectFrom('customers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  test('the same key and body within 24 h replays the first answer and changes nothing', async () => {
    const first = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'create-acme-1').send(customer('ACME'));
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const before = await countCustomers();

    // The same body with its keys in another order is the same request.
    const { code, ...rest } = customer('ACME');
    const retry = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'create-acme-1').send({ ...rest, code });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(await countCustomers()).toBe(before);
  });

  test('without the header nothing changes: a second create is a 409 already_exists', async () => {
    expect((await request(app).post('/customers').set(desk()).send(customer('PLAIN'))).status).toBe(201);
    expect((await request(app).post('/customers').set(desk()).send(customer('PLAIN'))).status).toBe(409);
  });

  test('the same key with another body or on another path is a 422 idempotency_key_reused naming the header', async () => {
    expect((await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'k-reuse').send(customer('REUSE'))).status).toBe(201);
    const otherBody = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'k-reuse').send(customer('OTHER'));
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.error).toMatchObject({ code: 'idempotency_key_reused', details: { header: 'Idempotency-Key' } });
    expect(otherBody.body.error.message).toContain('Idempotency-Key');
    const otherPath = await request(app).post('/products').set(desk()).set('Idempotency-Key', 'k-reuse').send({ code: 'P', name: 'P', productLine: 'network', listPriceCents: 1 });
    expect(otherPath.status).toBe(422);
    expect(otherPath.body.error.code).toBe('idempotency_key_reused');
    expect(await database.db.selectFrom('customers').select('id').where('code', '=', 'OTHER').executeTakeFirst()).toBeUndefined();
  });

  test('keys belong to their caller: another user with the same key makes their own request', async () => {
    const first = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'shared-key').send(customer('DESK1'));
    const manager = await request(app).post('/customers').set(bearer(tokens.manager)).set('Idempotency-Key', 'shared-key').send(customer('MGR1'));
    expect(first.status).toBe(201);
    expect(manager.status).toBe(201);
    expect(manager.headers['idempotent-replayed']).toBeUndefined();
  });

  test('a 4xx answer is kept and replayed, as Stripe does', async () => {
    const refused = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'bad-day').send({ ...customer('BADDAY'), billingDay: 31 });
    expect(refused.status).toBe(400);
    const retry = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'bad-day').send({ ...customer('BADDAY'), billingDay: 31 });
    expect(retry.status).toBe(400);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(refused.body);
  });

  test('a key that is not 1-255 printable ASCII characters is a 400 naming the header', async () => {
    for (const key of ['x'.repeat(256), 'tab\there', 'clé', '']) {
      const response = await request(app).post('/customers').set(desk()).set('Idempotency-Key', key).send(customer('BADKEY'));
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'header', field: 'Idempotency-Key' })]);
    }
    expect((await request(app).post('/customers').set(desk()).set('Idempotency-Key', `${'k'.repeat(254)}~`).send(customer('LONGKEY'))).status).toBe(201);
  });

  test('a key whose request is still in flight is a 409 idempotency_key_in_progress', async () => {
    slowAction = gate();
    slowActionStarted = gate();
    const link = links.issue({ caseId: 'case-slow', action: 'test.slow', singleUse: false });
    const first = request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'slow-1').send({}).then((response) => response);
    await slowActionStarted.opened;
    const second = await request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'slow-1').send({});
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'idempotency_key_in_progress', details: { header: 'Idempotency-Key' } });
    slowAction.open();
    expect((await first).status).toBe(200);
    const third = await request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'slow-1').send({});
    expect(third.status).toBe(200);
    expect(third.headers['idempotent-replayed']).toBe('true');
  });

  test('a 5xx answer is not kept: the client may retry with the same key', async () => {
    failuresLeft = 1;
    const link = links.issue({ caseId: 'case-flaky', action: 'test.flaky', singleUse: false });
    const failed = await request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'flaky-1').send({});
    expect(failed.status).toBe(500);
    const retried = await request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'flaky-1').send({});
    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body).toEqual({ ok: true });
  });

  test('a customer link: scoped by the link subject, a single-use link replays instead of answering 410', async () => {
    const link = links.issue({ caseId: 'case-42', action: 'test.note', singleUse: true });
    const first = await request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'note-1').send({ note: 'hello' });
    expect(first.status).toBe(200);
    const retry = await request(app).post(`/links/${link.token}`).set('Idempotency-Key', 'note-1').send({ note: 'hello' });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(performed.filter((note) => note === 'hello')).toHaveLength(1);
    expect((await request(app).post(`/links/${link.token}`).send({ note: 'hello' })).status).toBe(410);

    const row = await database.db.selectFrom('idempotency_keys').selectAll().where('idempotency_key', '=', 'note-1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ principal: 'link:case-42', route: '/links/:token', response_status: 200 });
    expect(JSON.stringify(row)).not.toContain(link.token);

    // Another link's subject has its own keys.
    const other = links.issue({ caseId: 'case-43', action: 'test.note', singleUse: true });
    const otherFirst = await request(app).post(`/links/${other.token}`).set('Idempotency-Key', 'note-1').send({ note: 'hello' });
    expect(otherFirst.headers['idempotent-replayed']).toBeUndefined();
  });

  test('after 24 h a key is forgotten: the request runs again, and expired keys are purged', async () => {
    expect((await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'old-key').send(customer('OLD'))).status).toBe(201);
    await database.db.updateTable('idempotency_keys').set({ created_at: sql<Date>`now() - interval '25 hours'` }).where('idempotency_key', '=', 'old-key').execute();
    const again = await request(app).post('/customers').set(desk()).set('Idempotency-Key', 'old-key').send(customer('OLD'));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_exists');
    expect(again.headers['idempotent-replayed']).toBeUndefined();

    await database.db.updateTable('idempotency_keys').set({ created_at: sql<Date>`now() - interval '25 hours'` }).execute();
    expect(await purgeExpiredIdempotencyKeys(database.db)).toBeGreaterThan(0);
    expect(await database.db.selectFrom('idempotency_keys').select('idempotency_key').execute()).toEqual([]);
  });

  test('the OpenAPI document shows the header on the POSTs that change something, not on read-only ones', async () => {
    const document = (await request(app).get('/openapi.json')).body;
    const headerOf = (path: string) => (document.paths[path].post.parameters ?? []).find((parameter: { in: string }) => parameter.in === 'header');
    expect(headerOf('/customers')).toMatchObject({ name: 'Idempotency-Key', required: false, schema: { type: 'string', maxLength: 255 } });
    expect(headerOf('/links/{token}')).toMatchObject({ name: 'Idempotency-Key' });
    expect(document.paths['/customers'].post.responses['422']).toBeDefined();
    expect(document.paths['/customers'].post.responses['201'].headers['Idempotent-Replayed']).toBeDefined();
    expect(headerOf('/incidents/grade')).toBeUndefined();
  });
});
