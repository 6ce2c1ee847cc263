import request, { type Response } from 'supertest';
import { createSignedLinks } from '../../activities/shared/signed-links';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers, testConfig, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { bearer } from '../support/probes';

// Console sign-in and sessions through the HTTP API, against a real database: the emailed link,
// the session cookie, CSRF, rotation, the idle timeout, sign-out and disabled users.

describe('console sign-in and sessions', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db);
    tokens = await createUsers(database.db, ['admin', 'service_desk', 'billing']);
  });
  afterAll(() => database.drop());

  const sessionCookieOf = (response: Response) => {
    const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    return cookies.find((cookie) => cookie.startsWith('fo_session='));
  };
  const tokenOf = (setCookie: string) => /^fo_session=([^;]+)/.exec(setCookie)![1]!;

  async function signInLink(email: string): Promise<string> {
    const asked = await request(app).post('/console/sign-in').type('form').send({ email, next: '/console/cases' });
    expect(asked.status).toBe(200);
    const row = await database.db
      .selectFrom('email_outbox')
      .select(['body_text', 'subject'])
      .where('recipient', '=', email)
      .where('template', '=', 'console_sign_in')
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    return new URL(/https?:\/\/\S+\/console\/sign-in\/\S+/.exec(row.body_text)![0]).pathname;
  }

  async function signIn(email: string): Promise<{ cookie: string; csrf: string }> {
    const link = await signInLink(email);
    const signedIn = await request(app).post(link).type('form').send({ next: '/console/cases' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/console/cases');
    const cookie = `fo_session=${tokenOf(sessionCookieOf(signedIn)!)}`;
    const page = await request(app).get('/console/cases').set('Cookie', cookie);
    const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page.text)![1]!;
    return { cookie, csrf };
  }

  test('asking for a link answers the same for a user and for an unknown address; only the user gets a mail, with a link that works once', async () => {
    const known = await request(app).post('/console/sign-in').type('form').send({ email: 'Admin@Fieldops.test' });
    const unknown = await request(app).post('/console/sign-in').type('form').send({ email: 'nobody@fieldops.test' });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(known.text.replace(/value="[^"]*"/g, '')).toBe(unknown.text.replace(/value="[^"]*"/g, ''));
    const mails = await database.db.selectFrom('email_outbox').select('recipient').where('template', '=', 'console_sign_in').execute();
    expect(mails.map((mail) => mail.recipient)).toEqual(['admin@fieldops.test']);
    const invalid = await request(app).post('/console/sign-in').set('Accept-Language', 'en-GB,en;q=0.9').type('form').send({ email: 'not an address' });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('Enter a valid email address');

    const link = await signInLink('admin@fieldops.test');
    // Opening the link (as a mail scanner would) signs nobody in and does not use it up.
    const opened = await request(app).get(link).set('Accept-Language', 'en');
    expect(opened.status).toBe(200);
    expect(sessionCookieOf(opened)).toBeUndefined();
    expect(opened.text).toContain('Sign in as admin user');
    const first = await request(app).post(link).type('form').send({});
    expect(first.status).toBe(303);
    const cookie = sessionCookieOf(first)!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    const again = await request(app).post(link).type('form').send({});
    expect(again.status).toBe(410);
    expect(sessionCookieOf(again)).toBeUndefined();
    expect((await request(app).get(link)).status).toBe(410);
  });

  test('a link that expired, was tampered with, or was issued for something else signs nobody in', async () => {
    const admin = await database.db.selectFrom('users').select('id').where('email', '=', 'admin@fieldops.test').executeTakeFirstOrThrow();
    const past = testSignedLinks(() => new Date(Date.now() - 16 * 60_000));
    const expired = past.issue({ caseId: admin.id, action: 'console_sign_in', singleUse: true, ttlHours: 0.25 });
    expect((await request(app).post(`/console/sign-in/${expired.token}`).type('form').send({})).status).toBe(410);
    const good = testSignedLinks().issue({ caseId: admin.id, action: 'console_sign_in', singleUse: true, ttlHours: 0.25 });
    const tampered = `${good.token.slice(0, -2)}${good.token.endsWith('A') ? 'BB' : 'AA'}`;
    expect((await request(app).post(`/console/sign-in/${tampered}`).type('form').send({})).status).toBe(400);
    const customerLink = testSignedLinks().issue({ caseId: admin.id, action: 'confirm_receipt', singleUse: true });
    expect((await request(app).post(`/console/sign-in/${customerLink.token}`).type('form').send({})).status).toBe(400);
    const otherSecret = createSignedLinks({ secret: 'x'.repeat(40), publicBaseUrl: 'http://fieldops.test', ttlHours: 1, now: () => new Date() });
    expect((await request(app).post(`/console/sign-in/${otherSecret.issue({ caseId: admin.id, action: 'console_sign_in', singleUse: true }).token}`).type('form').send({})).status).toBe(400);
    // A link may send the browser only to a console page afterwards.
    const link = await signInLink('admin@fieldops.test');
    const elsewhere = await request(app).post(`${link.split('?')[0]}?next=${encodeURIComponent('https://evil.example/console')}`).type('form').send({ next: '//evil.example' });
    expect(elsewhere.headers.location).toBe('/console');
  });

  test('a session reads the API like a token; what changes something needs the CSRF token and the same site', async () => {
    const { cookie, csrf } = await signIn('service_desk@fieldops.test');
    expect((await request(app).get('/cases').set('Cookie', cookie)).status).toBe(200);
    const customer = { code: 'SESS-1', name: 'Session Telecom', customerClass: 'A', slaClass: '7x24', billingDay: 10, sparePartFirst: true };
    const withoutToken = await request(app).post('/customers').set('Cookie', cookie).set('Idempotency-Key', 'sess-1').send(customer);
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.body.error.code).toBe('csrf_failed');
    const wrongToken = await request(app).post('/customers').set('Cookie', cookie).set('X-CSRF-Token', `${csrf.slice(1)}x`).set('Idempotency-Key', 'sess-1').send(customer);
    expect(wrongToken.status).toBe(403);
    const crossSite = await request(app).post('/customers').set('Cookie', cookie).set('X-CSRF-Token', csrf).set('Sec-Fetch-Site', 'cross-site').set('Idempotency-Key', 'sess-1').send(customer);
    expect(crossSite.status).toBe(403);
    expect(await database.db.selectFrom('customers').select('id').where('code', '=', 'SESS-1').executeTakeFirst()).toBeUndefined();
    const created = await request(app).post('/customers').set('Cookie', cookie).set('X-CSRF-Token', csrf).set('Idempotency-Key', 'sess-1').send(customer);
    expect(created.status).toBe(201);
    // The role is the user's: billing may not register customers, whatever the session.
    const billing = await signIn('billing@fieldops.test');
    const refused = await request(app).post('/customers').set('Cookie', billing.cookie).set('X-CSRF-Token', billing.csrf).set('Idempotency-Key', 'sess-2').send({ ...customer, code: 'SESS-2' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    // Programs keep their bearer tokens.
    expect((await request(app).get('/cases').set(bearer(tokens.billing))).status).toBe(200);
  });

  test('a session rotates its token, ends after 8 idle hours, and ends at sign-out for every process', async () => {
    const { cookie, csrf } = await signIn('admin@fieldops.test');
    const token = cookie.slice('fo_session='.length);
    const session = () => database.db.selectFrom('console_sessions').selectAll().where('revoked_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const { id } = await session();

    // 15 minutes on, the next page gets a new token; the old one still works for a minute, then not.
    await database.db.updateTable('console_sessions').set({ rotated_at: new Date(Date.now() - 16 * 60_000) }).where('id', '=', id).execute();
    const page = await request(app).get('/console/cases').set('Cookie', cookie);
    const rotated = sessionCookieOf(page);
    expect(rotated).toBeDefined();
    const newCookie = `fo_session=${tokenOf(rotated!)}`;
    expect(newCookie).not.toBe(cookie);
    expect((await request(app).get('/cases').set('Cookie', cookie)).status).toBe(200);
    expect((await request(app).get('/cases').set('Cookie', newCookie)).status).toBe(200);
    await database.db.updateTable('console_sessions').set({ previous_valid_until: new Date(Date.now() - 1000) }).where('id', '=', id).execute();
    expect((await request(app).get('/cases').set('Cookie', cookie)).status).toBe(401);
    expect((await request(app).get('/console/cases').set('Cookie', cookie)).headers.location).toMatch(/^\/console\/sign-in\?next=/);

    // Idle for 8 hours: gone. (Polling by the console's own script is not activity.)
    await database.db.updateTable('console_sessions').set({ last_seen_at: new Date(Date.now() - 7 * 3_600_000) }).where('id', '=', id).execute();
    expect((await request(app).get('/cases').set('Cookie', newCookie).set('X-Console-Poll', '1')).status).toBe(200);
    expect(new Date((await session()).last_seen_at).getTime()).toBeLessThan(Date.now() - 6 * 3_600_000);
    await database.db.updateTable('console_sessions').set({ last_seen_at: new Date(Date.now() - 8 * 3_600_000 - 60_000) }).where('id', '=', id).execute();
    expect((await request(app).get('/cases').set('Cookie', newCookie)).status).toBe(401);

    // Sign-out revokes it in the database.
    const second = await signIn('admin@fieldops.test');
    expect((await request(app).post('/console/sign-out').set('Cookie', second.cookie).type('form').send({ _csrf: 'wrong' })).status).toBe(403);
    const out = await request(app).post('/console/sign-out').set('Cookie', second.cookie).type('form').send({ _csrf: second.csrf });
    expect(out.status).toBe(303);
    expect((await request(app).get('/cases').set('Cookie', second.cookie)).status).toBe(401);
    void token;
    void csrf;

    // A disabled user's sessions stop at once.
    const third = await signIn('billing@fieldops.test');
    await database.db.updateTable('users').set({ disabled_at: new Date() }).where('email', '=', 'billing@fieldops.test').execute();
    expect((await request(app).get('/cases').set('Cookie', third.cookie)).status).toBe(401);
    await database.db.updateTable('users').set({ disabled_at: null }).where('email', '=', 'billing@fieldops.test').execute();
  });

  test('in production the session cookie is Secure', async () => {
    const production = createTestApp(database.db, { config: { ...testConfig, env: 'production' } });
    const admin = await database.db.selectFrom('users').select('id').where('email', '=', 'admin@fieldops.test').executeTakeFirstOrThrow();
    const link = testSignedLinks().issue({ caseId: admin.id, action: 'console_sign_in', singleUse: true, ttlHours: 0.25 });
    const signedIn = await request(production).post(`/console/sign-in/${link.token}`).type('form').send({});
    expect(sessionCookieOf(signedIn)).toMatch(/; Secure/);
  });

  test('links for one address are limited to 5 in 15 minutes, whoever asks', async () => {
    // From five different clients (a fresh address each: the per-client limit is not what is tested here).
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await request(app).post('/console/sign-in').set('X-Forwarded-For', `203.0.113.${attempt}`).type('form').send({ email: 'flood@fieldops.test' })).status).toBe(200);
    }
    const limited = await request(app).post('/console/sign-in').set('X-Forwarded-For', '203.0.113.6').type('form').send({ email: 'FLOOD@fieldops.test' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', details: { scope: 'email' } });
  });
});
