import express from 'express';
import { sql } from 'kysely';
import request from 'supertest';
import { errorHandler } from '../../api/errors';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { bearer } from '../support/probes';

/** Bad input is a 4xx naming what is wrong, never a 500. */
describe('bad input', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;
  let customerId: string;
  let productId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The spare-part routes are registered only with Temporal; these tests never reach it.
    app = createTestApp(database.db, { temporal: {} as never, mailer: {} as never });
    tokens = await createUsers(database.db, ['admin', 'service_desk']);
    customerId = (await request(app).post('/customers').set(desk()).send({ code: 'ACME', name: 'Acme', customerClass: 'A', slaClass: 'NBD', billingDay: 1 })).body.id;
    productId = (await request(app).post('/products').set(desk()).send({ code: 'P1', name: 'Router', productLine: 'network', listPriceCents: 100 })).body.id;
  });
  afterAll(() => database.drop());

  function desk() {
    return bearer(tokens.service_desk);
  }

  function expectFieldRefused(response: request.Response, location: string, field: string) {
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ in: location, field })]));
  }

  describe('values PostgreSQL cannot store are refused before the database, naming the field', () => {
    test('a list price past the int4 column (2147483647)', async () => {
      const response = await request(app).post('/products').set(desk()).send({ code: 'BIG', name: 'Big', productLine: 'network', listPriceCents: 2_147_483_648 });
      expectFieldRefused(response, 'body', 'listPriceCents');
      expect((await request(app).post('/products').set(desk()).send({ code: 'MAX', name: 'Max', productLine: 'network', listPriceCents: 2_147_483_647 })).status).toBe(201);
    });

    test.each([
      ['/customers', 'code', () => ({ code: 'NUL\u0000', name: 'x', customerClass: 'A', slaClass: 'NBD', billingDay: 1 })],
      ['/customers', 'name', () => ({ code: 'NUL2', name: 'a\u0000b', customerClass: 'A', slaClass: 'NBD', billingDay: 1 })],
      ['/contacts', 'phone', () => ({ customerId, name: 'Bob', email: 'bob@x.test', phone: '\u0000' })],
      ['/sites', 'address', () => ({ customerId, name: 'DC', city: 'Shanghai', address: 'Road\u0000', distanceKm: 1 })],
      ['/devices', 'serial', () => ({ serial: 'SN\u0000', productId, customerId })],
    ])('a NUL character in %s %s', async (path, field, body) => {
      expectFieldRefused(await request(app).post(path).set(desk()).send(body()), 'body', field);
    });

    test('a NUL character in a calendar year source', async () => {
      const response = await request(app)
        .put('/admin/calendar/2027')
        .set(bearer(tokens.admin))
        .send({ source: 'notice\u0000', version: 'v1', days: [] });
      expectFieldRefused(response, 'body', 'source');
    });

    test.each([
      ['an offset past +15:59', '2026-01-01T00:00:00+16:00'],
      ['an offset past -15:59', '2026-01-01T00:00:00-16:30'],
      ['year 0000', '0000-06-01T00:00:00Z'],
    ])('an instant with %s', async (_label, firstPowerOnAt) => {
      expectFieldRefused(await request(app).post('/devices').set(desk()).send({ serial: `SN-${firstPowerOnAt}`, productId, customerId, firstPowerOnAt }), 'body', 'firstPowerOnAt');
    });

    test('a date in year 0000', async () => {
      expectFieldRefused(await request(app).post('/devices').set(desk()).send({ serial: 'SN-Y0', productId, customerId, warrantyEnd: '0000-01-01' }), 'body', 'warrantyEnd');
    });

    test('the bounds that PostgreSQL takes still pass: offset +15:59, year 0001', async () => {
      const response = await request(app).post('/devices').set(desk()).send({ serial: 'SN-EDGE', productId, customerId, firstPowerOnAt: '2026-01-01T00:00:00+15:59', warrantyEnd: '0001-01-01' });
      expect(response.status).toBe(201);
    });
  });

  test('a PostgreSQL data error (SQLSTATE class 22) that still happens is a 400 validation_failed, not a 500', async () => {
    const probe = express();
    probe.get('/out-of-range', async () => {
      await sql`select ${'3000000000'}::int4`.execute(database.db);
    });
    probe.get('/bad-uuid', async () => {
      await database.db.selectFrom('customers').select('id').where('id', '=', 'not-a-uuid').execute();
    });
    probe.get('/nul', async () => {
      await database.db.insertInto('products').values({ code: 'N\u0000', name: 'x', product_line: 'network', list_price_cents: 1 }).execute();
    });
    probe.use(errorHandler);
    for (const path of ['/out-of-range', '/bad-uuid', '/nul']) {
      const response = await request(probe).get(path);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: '(root)' })] });
    }
  });

  describe('paths, bodies and query strings', () => {
    test.each(['/spare-parts/%E0%A4%A', '/customers/%E0%A4%A', '/links/%FF'])('bad percent-encoding in %s is a 400', async (path) => {
      const response = await request(app).get(path).set(desk());
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('malformed_path');
    });

    test('a corrupt gzip body is a 400 and an unsupported Content-Encoding a 415', async () => {
      const corrupt = await request(app).post('/customers').set(desk()).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('certainly not gzip');
      expect(corrupt.status).toBe(400);
      expect(corrupt.body.error.code).toBe('malformed_request');
      const unsupported = await request(app).post('/customers').set(desk()).set('Content-Type', 'application/json').set('Content-Encoding', 'snappy').send('{}');
      expect(unsupported.status).toBe(415);
      expect(unsupported.body.error.code).toBe('unsupported_encoding');
    });

    test.each(['0x10', '1e1', '', ' 5', '5.0', '-1', '1000000001', '99999999999999999999'])('offset=%j is refused: decimal integers within bounds only', async (offset) => {
      expectFieldRefused(await request(app).get(`/customers?offset=${encodeURIComponent(offset)}`).set(desk()), 'query', 'offset');
    });

    test('limit and offset as the document states them are accepted', async () => {
      const response = await request(app).get('/customers?limit=200&offset=0').set(desk());
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ limit: 200, offset: 0 });
      const document = (await request(app).get('/openapi.json')).body;
      const offset = document.paths['/customers'].get.parameters.find((parameter: { name: string }) => parameter.name === 'offset');
      expect(offset.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000_000 });
    });

    test('other query numbers are strict too: days=0x10 and year 0x7E9 are refused', async () => {
      expectFieldRefused(await request(app).get('/calendar/working-days/add?from=2026-01-05&days=0x10').set(desk()), 'query', 'days');
      expectFieldRefused(await request(app).get('/calendar/years/0x7E9').set(desk()), 'path', 'year');
    });

    test('an unknown query parameter is a 400 naming it', async () => {
      const response = await request(app).get('/customers?limit=5&sort=name&colour=red').set(desk());
      expectFieldRefused(response, 'query', 'sort');
      expect(response.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'colour' })]));
      expectFieldRefused(await request(app).get('/healthz?verbose=1'), 'query', 'verbose');
    });

    test('an array-style parameter (customerId[]=x) is a 400 rather than silently ignored', async () => {
      expectFieldRefused(await request(app).get(`/contacts?customerId[]=${customerId}`).set(desk()), 'query', 'customerId[]');
      expectFieldRefused(await request(app).get(`/contacts?customerId=${customerId}&customerId=${customerId}`).set(desk()), 'query', 'customerId');
    });
  });

  describe('the body is read only after authentication', () => {
    const bigBody = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });

    test('an anonymous request with a body past the limit is a 401, not parsed', async () => {
      const response = await request(app).post('/customers').set('Content-Type', 'application/json').send(bigBody);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('unauthenticated');
    });

    test('an anonymous request with malformed JSON is a 401 too: the body is never looked at', async () => {
      expect((await request(app).post('/customers').set('Content-Type', 'application/json').send('{"code": ')).status).toBe(401);
    });

    test('a signed-in caller still meets the 1 MB limit', async () => {
      const response = await request(app).post('/customers').set(desk()).set('Content-Type', 'application/json').send(bigBody);
      expect(response.status).toBe(413);
      expect(response.body.error.code).toBe('payload_too_large');
    });

    test('a customer link is checked before its body is read', async () => {
      const response = await request(app).post('/links/not-a-link').set('Content-Type', 'application/json').send(bigBody);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('link_invalid');
    });
  });
});
