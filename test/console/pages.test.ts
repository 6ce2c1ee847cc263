import type { Client } from '@temporalio/client';
import request from 'supertest';
import { z } from 'zod';
import type { Mailer } from '../../activities/shared/mailer';
import { routeTableOf } from '../../api/route';
import { registrationsFor } from '../../api/console/route-map';
import { USER_ROLES, type UserRole } from '../../db/schema';
import { createTestApp, createUsers, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';

// The console's pages are drawn from the route table: every registration form a role may use
// renders a field for every field its API route takes, and nothing the role may not use is offered.

describe('console pages drawn from the route table', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The process routes are registered with a Temporal client; these pages only read the route table.
    app = createTestApp(database.db, { temporal: {} as Client, mailer: {} as Mailer });
    await createUsers(database.db, USER_ROLES);
  });
  afterAll(() => database.drop());

  async function sessionOf(role: UserRole): Promise<string> {
    const user = await database.db.selectFrom('users').select('id').where('email', '=', `${role}@fieldops.test`).executeTakeFirstOrThrow();
    const link = testSignedLinks().issue({ caseId: user.id, action: 'console_sign_in', singleUse: true, ttlHours: 0.25 });
    const signedIn = await request(app).post(`/console/sign-in/${link.token}`).type('form').send({});
    return /fo_session=[^;]+/.exec(([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).join(';'))![0];
  }

  test('every registration a role may use has a form with a field for each field of its body, and the Register page lists exactly those', async () => {
    const table = routeTableOf(app);
    let forms = 0;
    for (const role of USER_ROLES) {
      const cookie = await sessionOf(role);
      const registrations = registrationsFor(table, role);
      const listing = await request(app).get('/console/new').set('Cookie', cookie).set('Accept-Language', 'en');
      expect(listing.status).toBe(200);
      const listed = [...listing.text.matchAll(/href="\/console\/new(\/[^"]+)"/g)].map((match) => match[1]).sort();
      expect(listed).toEqual(registrations.map((entry) => entry.path).sort());
      for (const entry of registrations) {
        const page = await request(app).get(`/console/new${entry.path}`).set('Cookie', cookie).set('Accept-Language', 'en');
        expect(page.status).toBe(200);
        expect(page.text).toContain(`data-path="${entry.path}"`);
        const body = entry.spec.body;
        const fields = body instanceof z.ZodObject ? Object.keys(body.shape) : [];
        for (const field of fields) expect({ path: entry.path, field, present: page.text.includes(`data-field="${field}"`) }).toEqual({ path: entry.path, field, present: true });
        forms++;
      }
    }
    // The desk registers faults, incidents, spare-part applications, claims and RMA repairs; managers campaigns.
    const desk = registrationsFor(table, 'service_desk').map((entry) => entry.path);
    expect(desk).toEqual(expect.arrayContaining(['/fault-repairs', '/incidents', '/spare-parts', '/goods-claims', '/doa-claims', '/rma-repairs']));
    expect(registrationsFor(table, 'manager').map((entry) => entry.path)).toContain('/rectification-campaigns');
    expect(forms).toBeGreaterThan(20);
  });

  test('a route a role may not call is neither listed nor served as a form', async () => {
    const cookie = await sessionOf('billing');
    const page = await request(app).get('/console/new/fault-repairs').set('Cookie', cookie).set('Accept-Language', 'en');
    expect(page.status).toBe(404);
    expect(page.text).not.toContain('data-path="/fault-repairs"');
    const anonymous = await request(app).get('/console/new/fault-repairs');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe('/console/sign-in?next=%2Fconsole%2Fnew%2Ffault-repairs');
  });

  test('console pages allow no inline script or style, cannot be framed, and escape what they show', async () => {
    const cookie = await sessionOf('admin');
    await request(app)
      .post('/customers')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', /<meta name="csrf-token" content="([^"]+)"/.exec((await request(app).get('/console').set('Cookie', cookie)).text)?.[1] ?? '')
      .set('Idempotency-Key', 'xss-1')
      .send({ code: 'XSS', name: '<script>alert(1)</script>', customerClass: 'A', slaClass: '7x24', billingDay: 10, sparePartFirst: true })
      .expect(201);
    const list = await request(app).get('/console/customers').set('Cookie', cookie).set('Accept-Language', 'en');
    expect(list.status).toBe(200);
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.text).not.toContain('<script>alert(1)</script>');
    expect(list.headers['content-security-policy']).toContain("script-src 'self'");
    expect(list.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(list.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(list.text).not.toMatch(/<script>[^<]|<style|style="/);
  });

  test('a page links the pages about the same thing, and a computation shows its answer instead of reloading', async () => {
    const cookie = await sessionOf('admin');
    const customer = await database.db.selectFrom('customers').select('id').where('code', '=', 'XSS').executeTakeFirstOrThrow();
    const page = await request(app).get(`/console/customers/${customer.id}`).set('Cookie', cookie).set('Accept-Language', 'en');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="/console/customers/${customer.id}/busy-hours"`);
    expect(page.text).toContain(`href="/console/customers/${customer.id}/protected-periods"`);
    const incidents = await request(app).get('/console/incidents').set('Cookie', await sessionOf('manager')).set('Accept-Language', 'en');
    expect(incidents.text).toMatch(/data-path="\/incidents\/grade"[^>]*data-idempotent="false"[^>]*data-after="show"/);
  });
});
