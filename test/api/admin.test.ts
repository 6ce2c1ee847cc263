import request from 'supertest';
import { createSession, findSession } from '../../api/console/sessions';
import { createCalendarProvider } from '../../db/repositories/calendar';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { createContact, createCustomer, createDevice, createProduct, uniqueTag } from '../support/fixtures';
import { bearer } from '../support/probes';

describe('admin: users and roles, and the preview of a calendar change', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, { calendar: createCalendarProvider(database.db) });
    tokens = await createUsers(database.db, ['admin', 'manager', 'service_desk', 'billing']);
  });
  afterAll(() => database.drop());

  const as = (role: UserRole) => bearer(tokens[role]);
  const userId = async (email: string) => (await database.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;

  describe('users and roles', () => {
    test('an admin lists users, by role too; other roles may not', async () => {
      const all = await request(app).get('/users').set(as('admin'));
      expect(all.status).toBe(200);
      expect(all.body.items.map((user: { email: string }) => user.email)).toEqual(expect.arrayContaining(['admin@fieldops.test', 'manager@fieldops.test', 'billing@fieldops.test']));
      const billing = await request(app).get('/users?role=billing').set(as('admin'));
      expect(billing.body.items.map((user: { email: string }) => user.email)).toEqual(['billing@fieldops.test']);
      expect((await request(app).get('/users').set(as('manager'))).status).toBe(403);
    });

    test("changing a user's role takes effect on their token at once, and is audited", async () => {
      const created = await request(app).post('/users').set(as('admin')).send({ name: 'Wang Fang', email: `wang-${uniqueTag()}@fieldops.test`, role: 'billing' });
      expect(created.status).toBe(201);
      const token: string = created.body.token;
      expect((await request(app).get('/users').set(bearer(token))).status).toBe(403);

      const changed = await request(app).patch(`/users/${created.body.id}`).set(as('admin')).send({ role: 'admin' });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ id: created.body.id, role: 'admin', disabledAt: null });
      expect((await request(app).get('/users').set(bearer(token))).status).toBe(200);
      const audit = await database.db.selectFrom('audit_events').select(['actor', 'comment', 'data']).where('action', '=', 'user.role_changed').executeTakeFirstOrThrow();
      expect(audit).toMatchObject({ actor: 'admin user', data: { userId: created.body.id, from: 'billing', to: 'admin' } });

      const refused = await request(app).patch(`/users/${created.body.id}`).set(as('admin')).send({ role: 'owner' });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'role' })]);
    });

    test('disabling a user refuses their token and ends their console sessions; enabling lets the token in again but not the ended sessions', async () => {
      const id = await userId('service_desk@fieldops.test');
      const sessionToken = await createSession(database.db, { userId: id, userAgent: 'test', now: new Date() });
      expect(await findSession(database.db, sessionToken, new Date())).toMatchObject({ actor: { id, role: 'service_desk' } });
      expect((await request(app).get('/customers').set(as('service_desk'))).status).toBe(200);

      const disabled = await request(app).post(`/users/${id}/disable`).set(as('admin'));
      expect(disabled.status).toBe(200);
      expect(disabled.body.disabledAt).toEqual(expect.any(String));
      expect((await request(app).get('/customers').set(as('service_desk'))).status).toBe(401);
      expect(await findSession(database.db, sessionToken, new Date())).toBeUndefined();
      const session = await database.db.selectFrom('console_sessions').select('revoked_at').where('user_id', '=', id).executeTakeFirstOrThrow();
      expect(session.revoked_at).toBeInstanceOf(Date);
      // A session cookie presented to the API is now no one: the route asks for authentication.
      expect((await request(app).get('/customers').set('Cookie', `fo_session=${sessionToken}`)).status).toBe(401);
      // Disabling again changes nothing (same instant), so a retry is harmless.
      expect((await request(app).post(`/users/${id}/disable`).set(as('admin'))).body.disabledAt).toBe(disabled.body.disabledAt);

      const enabled = await request(app).post(`/users/${id}/enable`).set(as('admin'));
      expect(enabled.status).toBe(200);
      expect(enabled.body.disabledAt).toBeNull();
      expect((await request(app).get('/customers').set(as('service_desk'))).status).toBe(200);
      expect(await findSession(database.db, sessionToken, new Date())).toBeUndefined();
      const actions = await database.db.selectFrom('audit_events').select('action').where('action', 'in', ['user.disabled', 'user.enabled']).orderBy('occurred_at').execute();
      expect(actions.map((row) => row.action)).toEqual(['user.disabled', 'user.enabled']);
    });

    test('an admin cannot demote or disable themselves; an unknown user is a 404; other roles are refused', async () => {
      const self = await userId('admin@fieldops.test');
      const demote = await request(app).patch(`/users/${self}`).set(as('admin')).send({ role: 'billing' });
      expect(demote.status).toBe(422);
      expect(demote.body.error.code).toBe('business_rule_violated');
      expect((await request(app).post(`/users/${self}/disable`).set(as('admin'))).status).toBe(422);
      expect((await request(app).post('/users/00000000-0000-4000-8000-000000000000/disable').set(as('admin'))).status).toBe(404);
      expect((await request(app).post(`/users/${self}/disable`).set(as('manager'))).status).toBe(403);
      const still = await database.db.selectFrom('users').select(['role', 'disabled_at']).where('id', '=', self).executeTakeFirstOrThrow();
      expect(still).toEqual({ role: 'admin', disabled_at: null });
    });
  });

  describe('POST /admin/calendar/:year/preview', () => {
    let loans: Record<'spansChange' | 'startsAfter' | 'returned' | 'dueBefore', string>;

    beforeAll(async () => {
      const db = database.db;
      const customer = await createCustomer(db);
      const contact = await createContact(db, customer.id);
      const product = await createProduct(db);
      let sequence = 0;
      const loan = async (receivedAt: string, dueAt: string, returnedAt: string | null = null) => {
        sequence += 1;
        const number = `SP-2027-${String(900000 + sequence)}`;
        const device = await createDevice(db, { customerId: customer.id, productId: product.id, serial: `SN-PREVIEW-${uniqueTag()}` });
        const row = await db
          .insertInto('cases')
          .values({ kind: 'spare_part', number, status: returnedAt ? 'returned' : 'awaiting_return', customer_id: customer.id, device_id: device.id, workflow_id: `spare-part/${number}`, closed_at: returnedAt })
          .returning('id')
          .executeTakeFirstOrThrow();
        await db
          .insertInto('spare_part_loans')
          .values({
            case_id: row.id, loan_number: number, customer_id: customer.id, contact_id: contact.id, failed_device_id: device.id, fault_description: 'PSU dead', delivery_address: 'Room 1',
            status: returnedAt ? 'returned' : 'awaiting_return', applied_by: 'desk', applied_by_role: 'service_desk', applied_at: receivedAt, received_at: receivedAt,
            return_due_date: dueAt.slice(0, 10), return_due_at: dueAt, returned_at: returnedAt,
          })
          .execute();
        return number;
      };
      loans = {
        spansChange: await loan('2026-12-28T10:00:00+08:00', '2027-01-19T23:59:59+08:00'),
        startsAfter: await loan('2027-01-11T10:00:00+08:00', '2027-02-01T23:59:59+08:00'),
        returned: await loan('2026-12-29T10:00:00+08:00', '2027-01-20T23:59:59+08:00', '2027-01-02T10:00:00+08:00'),
        dueBefore: await loan('2026-12-01T10:00:00+08:00', '2026-12-22T23:59:59+08:00'),
      };
    });

    // 2027-01-04 is a Monday, 2027-01-02 a Saturday, 2027-01-09 a Saturday.
    const days2027 = [
      { date: '2027-01-02', kind: 'holiday', name: '元旦' },
      { date: '2027-01-04', kind: 'holiday', name: '元旦' },
      { date: '2027-01-09', kind: 'adjusted_working_day', name: '元旦补班' },
    ];

    test('for a year not yet published: the changed days, and the open deadlines recorded across them that it would not move; nothing is saved', async () => {
      const response = await request(app).post('/admin/calendar/2027/preview').set(as('admin')).send({ days: days2027 });
      expect(response.status).toBe(200);
      expect(response.body.year).toBe(2027);
      expect(response.body.provisional).toBe(true);
      expect(response.body.changedDays).toEqual([
        { date: '2027-01-02', before: null, after: 'holiday', nameBefore: null, nameAfter: '元旦', workingBefore: false, workingAfter: false },
        { date: '2027-01-04', before: null, after: 'holiday', nameBefore: null, nameAfter: '元旦', workingBefore: true, workingAfter: false },
        { date: '2027-01-09', before: null, after: 'adjusted_working_day', nameBefore: null, nameAfter: '元旦补班', workingBefore: false, workingAfter: true },
      ]);
      // Only the loan still open whose count runs across a day that changes between working and not.
      expect(response.body.deadlinesNotMoved).toEqual([
        {
          caseNumber: loans.spansChange,
          caseKind: 'spare_part',
          deadline: 'spare_part_return',
          rule: expect.objectContaining({ en: expect.stringContaining('15 working days') }),
          countedFrom: '2026-12-28T02:00:00.000Z',
          dueAt: '2027-01-19T15:59:59.000Z',
          changedDays: ['2027-01-04', '2027-01-09'],
        },
      ]);
      expect(response.body.note.en).toMatch(/computed once/);
      expect((await request(app).get('/calendar/years/2027').set(as('admin'))).status).toBe(404);
    });

    test('against a published year: only the entries that differ; the same days change nothing', async () => {
      const current = await request(app).get('/calendar/years/2026').set(as('admin'));
      const days = current.body.days.map((day: { date: string; kind: string; name: string | null }) => ({ date: day.date, kind: day.kind, ...(day.name ? { name: day.name } : {}) }));
      const same = await request(app).post('/admin/calendar/2026/preview').set(as('admin')).send({ days });
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ year: 2026, provisional: false, changedDays: [], deadlinesNotMoved: [] });

      // Dropping the last holiday of 2026 makes it an ordinary day: the loan due 2026-12-22 ended before it and is not listed either way.
      const lastHoliday = [...current.body.days].reverse().find((day: { kind: string }) => day.kind === 'holiday') as { date: string };
      const without = await request(app).post('/admin/calendar/2026/preview').set(as('admin')).send({ days: days.filter((day: { date: string }) => day.date !== lastHoliday.date) });
      expect(without.body.changedDays).toEqual([expect.objectContaining({ date: lastHoliday.date, before: 'holiday', after: null, workingAfter: true })]);
      expect(without.body.deadlinesNotMoved.map((deadline: { caseNumber: string }) => deadline.caseNumber)).not.toContain(loans.dueBefore);
      expect((await request(app).get('/calendar/years/2026').set(as('admin'))).body.revision).toBe(current.body.revision);
    });

    test('the same validation as the PUT, and for admins only', async () => {
      const wrongYear = await request(app).post('/admin/calendar/2027/preview').set(as('admin')).send({ days: [{ date: '2028-01-03', kind: 'holiday' }, { date: '2027-01-05', kind: 'adjusted_working_day' }] });
      expect(wrongYear.status).toBe(400);
      expect(wrongYear.body.error.details).toEqual([
        { in: 'body', field: 'days.0.date', message: '2028-01-03 is not in 2027' },
        { in: 'body', field: 'days.1.date', message: '2027-01-05 is a weekday and cannot be an adjusted working day' },
      ]);
      expect((await request(app).post('/admin/calendar/2027/preview').set(as('manager')).send({ days: days2027 })).status).toBe(403);
    });
  });
});
