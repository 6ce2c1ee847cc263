import request from 'supertest';
import { createUsers } from '../support/app';
import { createCustomer } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer } from '../support/probes';

// The customer master data the rectification slots respect (busy hours, protected periods), the
// campaign routes in the OpenAPI document, and the campaign's 404s.

describe('customer busy hours and protected periods; campaign routes in OpenAPI', () => {
  let h: ProcessHarness;
  let customerId: string;

  beforeAll(async () => {
    h = await startProcessHarness();
    Object.assign(h.tokens, await createUsers(h.database.db, ['rd_reviewer']));
    customerId = (await createCustomer(h.database.db)).id;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test('busy hours: added, listed in weekday order, validated naming the field, removed', async () => {
    const desk = bearer(h.tokens.service_desk);
    const path = `/customers/${customerId}/busy-hours`;
    expect((await request(h.app).post(path).set(bearer(h.tokens.engineer)).send({ weekday: 1, startMinute: 480, endMinute: 1200 })).status).toBe(403);
    const reversed = await request(h.app).post(path).set(desk).send({ weekday: 1, startMinute: 1200, endMinute: 480 });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'endMinute' })]);
    const badDay = await request(h.app).post(path).set(desk).send({ weekday: 8, startMinute: 0, endMinute: 60 });
    expect(badDay.body.error.details).toEqual([expect.objectContaining({ field: 'weekday' })]);
    expect((await request(h.app).post('/customers/00000000-0000-4000-8000-000000000000/busy-hours').set(desk).send({ weekday: 1, startMinute: 0, endMinute: 60 })).status).toBe(404);
    const friday = await request(h.app).post(path).set(desk).send({ weekday: 5, startMinute: 480, endMinute: 1200, note: 'Trading hours' });
    expect(friday.status).toBe(201);
    expect(friday.body).toMatchObject({ customerId, weekday: 5, startMinute: 480, endMinute: 1200, note: 'Trading hours' });
    expect((await request(h.app).post(path).set(desk).send({ weekday: 1, startMinute: 0, endMinute: 1440 })).status).toBe(201);
    const listed = await request(h.app).get(path).set(bearer(h.tokens.engineer));
    expect(listed.body.items.map((item: { weekday: number }) => item.weekday)).toEqual([1, 5]);
    expect((await request(h.app).delete(`${path}/${friday.body.id}`).set(desk)).status).toBe(200);
    expect((await request(h.app).delete(`${path}/${friday.body.id}`).set(desk)).status).toBe(404);
    expect((await request(h.app).get(path).set(desk)).body.items).toHaveLength(1);
  });

  test('protected periods: dates both inclusive, an end before the start refused naming endsOn', async () => {
    const desk = bearer(h.tokens.manager);
    const path = `/customers/${customerId}/protected-periods`;
    const backwards = await request(h.app).post(path).set(desk).send({ startsOn: '2026-10-07', endsOn: '2026-10-01', reason: '国庆' });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details).toEqual([expect.objectContaining({ field: 'endsOn' })]);
    const noReason = await request(h.app).post(path).set(desk).send({ startsOn: '2026-10-01', endsOn: '2026-10-07' });
    expect(noReason.body.error.details).toEqual([expect.objectContaining({ field: 'reason' })]);
    const added = await request(h.app).post(path).set(desk).send({ startsOn: '2026-12-01', endsOn: '2026-12-02', reason: '重要通信保障期间' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ startsOn: '2026-12-01', endsOn: '2026-12-02', reason: '重要通信保障期间' });
    expect((await request(h.app).get(path).set(desk)).body.items).toEqual([added.body]);
  });

  test('the campaign routes are in the OpenAPI document; an unknown campaign is a 404, a malformed number a 400', async () => {
    const document = (await request(h.app).get('/openapi.json')).body;
    for (const route of ['/rectification-campaigns', '/rectification-campaigns/{number}', '/rectification-campaigns/{number}/plan', '/rectification-campaigns/{number}/customers/{customerId}/decline', '/rectification-campaigns/{number}/customers/{customerId}/devices', '/customers/{customerId}/busy-hours', '/customers/{customerId}/protected-periods/{id}']) {
      expect(document.paths[route]).toBeDefined();
    }
    expect(document.paths['/rectification-campaigns'].post.requestBody).toBeDefined();
    expect((await request(h.app).get('/rectification-campaigns/RC-2026-999999').set(bearer(h.tokens.engineer))).status).toBe(404);
    expect((await request(h.app).get('/rectification-campaigns/FR-2026-000001').set(bearer(h.tokens.engineer))).status).toBe(400);
    expect((await request(h.app).get('/rectification-campaigns?status=open').set(bearer(h.tokens.engineer))).status).toBe(400);
  });
});
