import request from 'supertest';
import { z } from 'zod';
import { defineLinkAction } from '../../api/routes/links';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { createTestApp, createUsers, testSignedLinks } from '../support/app';
import { bearer } from '../support/probes';
import type { UserRole } from '../../db/schema';

describe('API error model', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db);
    tokens = await createUsers(database.db, ['admin', 'service_desk', 'engineer']);
  });
  afterAll(() => database.drop());

  const desk = () => bearer(tokens.service_desk);

  test('malformed JSON is a 400 malformed_json error, not a 500', async () => {
    const response = await request(app).post('/customers').set(desk()).set('Content-Type', 'application/json').send('{"code": ');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'malformed_json', message: expect.any(String), details: null } });
  });

  test('an unknown route is a 404 JSON error naming the method and path', async () => {
    const response = await request(app).get('/no/such/thing');
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'route_not_found', details: { method: 'GET', path: '/no/such/thing' } });
  });

  const validCustomer = { code: 'ACME', name: 'Acme Telecom', customerClass: 'A', slaClass: '7x24', billingDay: 10, sparePartFirst: true };

  test.each([
    ['code', { code: '' }],
    ['name', { name: 42 }],
    ['customerClass', { customerClass: 'D' }],
    ['slaClass', { slaClass: '9x5' }],
    ['billingDay', { billingDay: 31 }],
    ['sparePartFirst', { sparePartFirst: 'yes' }],
  ])('a customer with a bad %s is refused with a 400 that names that field', async (field, change) => {
    const response = await request(app).post('/customers').set(desk()).send({ ...validCustomer, ...change });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'body', field })]);
    expect(response.body.error.message).toContain(field);
  });

  test('a bad query parameter and a bad path parameter are named too', async () => {
    const list = await request(app).get('/customers?limit=0').set(desk());
    expect(list.status).toBe(400);
    expect(list.body.error.details).toEqual([expect.objectContaining({ in: 'query', field: 'limit' })]);
    const one = await request(app).get('/customers/not-a-uuid').set(desk());
    expect(one.status).toBe(400);
    expect(one.body.error.details).toEqual([expect.objectContaining({ in: 'path', field: 'id' })]);
  });

  test('a duplicate unique key is a 409 naming the field, and nothing is half-written', async () => {
    expect((await request(app).post('/customers').set(desk()).send(validCustomer)).status).toBe(201);
    const again = await request(app).post('/customers').set(desk()).send(validCustomer);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_exists', details: { field: 'code' } });
    const count = await database.db.selectFrom('customers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  test('a reference to a customer that does not exist is a 400 naming customerId', async () => {
    const response = await request(app)
      .post('/contacts')
      .set(desk())
      .send({ customerId: '00000000-0000-4000-8000-000000000000', name: 'Bob', email: 'bob@x.test' });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'customerId' })]);
  });

  test('master data round-trips: customer, contact, site, product and device are created, listed and fetched', async () => {
    const customer = (await request(app).get('/customers').set(desk())).body.items[0];
    const contact = await request(app).post('/contacts').set(desk()).send({ customerId: customer.id, name: 'Alice', email: 'Alice@Acme.test', locale: 'en' });
    expect(contact.status).toBe(201);
    expect(contact.body).toMatchObject({ email: 'alice@acme.test', locale: 'en' });
    const site = await request(app).post('/sites').set(desk()).send({ customerId: customer.id, name: 'Core DC', city: 'Shanghai', distanceKm: 12 });
    expect(site.status).toBe(201);
    const product = await request(app).post('/products').set(desk()).send({ code: 'OSN-8800', name: 'Transport', productLine: 'network', listPriceCents: 9_900_000 });
    expect(product.status).toBe(201);
    const device = await request(app)
      .post('/devices')
      .set(desk())
      .send({ serial: 'SN-1', productId: product.body.id, customerId: customer.id, siteId: site.body.id, warrantyEnd: '2027-06-30' });
    expect(device.status).toBe(201);
    expect(device.body).toMatchObject({ serial: 'SN-1', warrantyEnd: '2027-06-30' });
    const bySerial = await request(app).get('/devices?serial=SN-1').set(desk());
    expect(bySerial.body).toMatchObject({ total: 1, items: [{ id: device.body.id }] });
    expect((await request(app).get(`/devices/${device.body.id}`).set(desk())).body.siteId).toBe(site.body.id);
    expect((await request(app).get(`/contacts?customerId=${customer.id}`).set(desk())).body).toMatchObject({ total: 1, items: [{ email: 'alice@acme.test' }] });
    expect((await request(app).get('/contacts?customerId=00000000-0000-4000-8000-000000000000').set(desk())).body.total).toBe(0);
    expect((await request(app).get(`/sites/${site.body.id}`).set(desk())).body).toMatchObject({ city: 'Shanghai', distanceKm: 12 });
    expect((await request(app).get('/products?limit=1&offset=0').set(desk())).body).toMatchObject({ total: 1, limit: 1, offset: 0 });
    const missing = await request(app).get('/devices/00000000-0000-4000-8000-000000000000').set(desk());
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  test('the OpenAPI 3.1 document lists every route with its security and a docs page serves it', async () => {
    const document = (await request(app).get('/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/customers', '/customers/{id}', '/devices', '/users', '/links/{token}', '/readyz']));
    expect(document.paths['/customers'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/customers'].post.responses['400']).toBeDefined();
    const docs = await request(app).get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
  });
});

describe('API authentication and roles', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db);
    tokens = await createUsers(database.db, ['admin', 'engineer']);
  });
  afterAll(() => database.drop());

  test('no token is a 401 with a WWW-Authenticate challenge', async () => {
    const response = await request(app).get('/customers');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthenticated');
  });

  test('a token that does not exist, or a malformed header, is a 401', async () => {
    const bad = await request(app).get('/customers').set('Authorization', 'Bearer fo_not-a-real-token');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('invalid_token');
    expect((await request(app).get('/customers').set('Authorization', 'Basic abc')).status).toBe(401);
  });

  test('the wrong role is a 403 naming the roles needed', async () => {
    const response = await request(app).post('/users').set(bearer(tokens.engineer)).send({ name: 'X', email: 'x@x.test', role: 'admin' });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'forbidden', details: { requiredRoles: ['admin'], role: 'engineer' } });
  });

  test('an admin creates a user whose token is shown once, stored only hashed, and works', async () => {
    const created = await request(app).post('/users').set(bearer(tokens.admin)).send({ name: 'Desk', email: 'desk@x.test', role: 'service_desk' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^fo_/);
    const stored = await database.db.selectFrom('users').selectAll().where('email', '=', 'desk@x.test').executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(created.body.token);
    expect((await request(app).get(`/users/${stored.id}`).set(bearer(tokens.admin))).body).not.toHaveProperty('token');
    expect((await request(app).get('/customers').set(bearer(created.body.token))).status).toBe(200);
  });
});

describe('customer signed links', () => {
  let database: TestDatabase;
  const performed: unknown[] = [];
  const confirm = defineLinkAction({
    action: 'test.confirm',
    summary: 'Confirm something',
    body: z.object({ note: z.string().max(10) }),
    perform: async ({ claims, body }) => {
      if (body.note === 'fail') throw new Error('downstream failure');
      performed.push({ caseId: claims.caseId, note: body.note });
      return { confirmed: true };
    },
  });

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  const appAt = (now: Date) => createTestApp(database.db, { links: testSignedLinks(() => now), linkActions: [confirm] });
  const issue = (singleUse = true) => testSignedLinks().issue({ caseId: 'case-1', action: 'test.confirm', singleUse });

  test('a valid single-use link acts once; using it again is a 410 link_used', async () => {
    const app = appAt(new Date());
    const { token, url } = issue();
    expect(url).toBe(`http://fieldops.test/links/${token}`);
    expect((await request(app).get(`/links/${token}`)).body).toMatchObject({ action: 'test.confirm', singleUse: true, used: false });
    const first = await request(app).post(`/links/${token}`).send({ note: 'ok' });
    expect(first.status).toBe(200);
    const second = await request(app).post(`/links/${token}`).send({ note: 'ok' });
    expect(second.status).toBe(410);
    expect(second.body.error.code).toBe('link_used');
    expect(performed).toEqual([{ caseId: 'case-1', note: 'ok' }]);
    expect((await request(app).get(`/links/${token}`)).body.used).toBe(true);
  });

  test('an expired link is a 410 link_expired and does nothing', async () => {
    const { token } = issue();
    const response = await request(appAt(new Date(Date.now() + 25 * 3_600_000))).post(`/links/${token}`).send({ note: 'late' });
    expect(response.status).toBe(410);
    expect(response.body.error.code).toBe('link_expired');
  });

  test('a forged link (changed case or signature) is a 401 link_invalid', async () => {
    const app = appAt(new Date());
    const { token } = issue();
    const [payload, signature] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const otherCase = Buffer.from(JSON.stringify({ ...claims, caseId: 'case-2' })).toString('base64url');
    for (const forged of [`${otherCase}.${signature}`, `${payload}.${signature.slice(0, -2)}AA`, 'garbage']) {
      const response = await request(app).post(`/links/${forged}`).send({ note: 'x' });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('link_invalid');
    }
  });

  test('a bad body names its field and leaves the link usable; a failed action releases it too', async () => {
    const app = appAt(new Date());
    const { token } = issue();
    const bad = await request(app).post(`/links/${token}`).send({ note: 'far too long for this' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'note' })]);
    expect((await request(app).post(`/links/${token}`).send({ note: 'fail' })).status).toBe(500);
    expect((await request(app).post(`/links/${token}`).send({ note: 'again' })).status).toBe(200);
  });
});
