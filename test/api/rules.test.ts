import request from 'supertest';
import { createCalendarProvider } from '../../db/repositories/calendar';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { bearer } from '../support/probes';
import { OFFICIAL_2026 } from '../rules/official-schedules';

describe('business calendar and rule endpoints', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, { calendar: createCalendarProvider(database.db) });
    tokens = await createUsers(database.db, ['admin', 'service_desk', 'manager']);
  });
  afterAll(() => database.drop());

  const as = (role: UserRole) => bearer(tokens[role]);

  describe('the seeded calendar', () => {
    test('holds 2011-2026 from chinese-workday with its version', async () => {
      const response = await request(app).get('/calendar/years').set(as('service_desk'));
      expect(response.status).toBe(200);
      expect(response.body.items.map((item: { year: number }) => item.year)).toEqual(Array.from({ length: 16 }, (_, index) => 2011 + index));
      expect(response.body.items[15]).toMatchObject({ year: 2026, source: 'npm:chinese-workday', version: '1.16.1', revision: 1, loadedBy: 'migration' });
    });

    test('has the published 2026 schedule, day for day', async () => {
      const response = await request(app).get('/calendar/years/2026').set(as('service_desk'));
      expect(response.status).toBe(200);
      const stored = response.body.days.map((day: { date: string; kind: string }) => [day.date, day.kind]);
      const official = OFFICIAL_2026.map((day) => [day.date, day.kind]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      expect(stored).toEqual(official);
    });

    test('an unknown year is a 404', async () => {
      expect((await request(app).get('/calendar/years/2030').set(as('service_desk'))).status).toBe(404);
    });
  });

  describe('GET /calendar/working-days/add and /count', () => {
    test('received 2026-09-24 + 15 working days is due 2026-10-22', async () => {
      const response = await request(app).get('/calendar/working-days/add?from=2026-09-24&days=15').set(as('service_desk'));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ due: '2026-10-22', dueAt: '2026-10-22T23:59:59+08:00', provisional: false, missingYears: [] });
    });

    test('a count into 2027 is provisional and names the year', async () => {
      const add = await request(app).get('/calendar/working-days/add?from=2026-12-20&days=15').set(as('service_desk'));
      expect(add.body).toEqual({ due: '2027-01-08', dueAt: '2027-01-08T23:59:59+08:00', provisional: true, missingYears: [2027] });
      const count = await request(app).get('/calendar/working-days/count?from=2026-09-24&to=2026-10-22').set(as('service_desk'));
      expect(count.body).toEqual({ count: 15, provisional: false, missingYears: [] });
    });

    test.each([
      ['/calendar/working-days/add?from=2026-02-30&days=3', 'from'],
      ['/calendar/working-days/add?from=24-09-2026&days=3', 'from'],
      ['/calendar/working-days/add?days=3', 'from'],
      ['/calendar/working-days/add?from=2026-09-24&days=-1', 'days'],
      ['/calendar/working-days/add?from=2026-09-24&days=1.5', 'days'],
      ['/calendar/working-days/add?from=2026-09-24&days=ten', 'days'],
      ['/calendar/working-days/add?from=2026-09-24', 'days'],
      ['/calendar/working-days/add?from=2099-12-01&days=100', 'days'],
      ['/calendar/working-days/add?from=1999-12-31&days=1', 'from'],
      ['/calendar/working-days/count?from=2026-09-24&to=tomorrow', 'to'],
      ['/sla/due?start=2026-10-01T09:00:00&class=NBD', 'start'],
      ['/sla/due?start=2026-10-01T09:00:00Z&class=9x5', 'class'],
      ['/goods/claim-window?kind=lost&arrivedOn=2026-03-01&claimedAt=2026-03-02T10:00:00Z', 'kind'],
      ['/warranty/replacement?shippedOn=2026-13-01', 'shippedOn'],
    ])('GET %s is a 400 naming %s', async (url, field) => {
      const response = await request(app).get(url).set(as('service_desk'));
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'query', field })]);
    });

    test('needs a signed-in user', async () => {
      expect((await request(app).get('/calendar/working-days/add?from=2026-09-24&days=15')).status).toBe(401);
    });
  });

  describe('PUT /admin/calendar/:year', () => {
    const year2027 = {
      source: 'State Council notice 国办发明电〔2026〕(test)',
      version: '2026-11-01',
      days: [
        { date: '2027-01-01', kind: 'holiday', name: '元旦' },
        { date: '2027-02-06', kind: 'holiday', name: '春节' },
        { date: '2027-02-07', kind: 'holiday', name: '春节' },
        { date: '2027-02-08', kind: 'holiday', name: '春节' },
        { date: '2027-02-09', kind: 'holiday', name: '春节' },
        { date: '2027-02-10', kind: 'holiday', name: '春节' },
        { date: '2027-02-11', kind: 'holiday', name: '春节' },
        { date: '2027-02-12', kind: 'holiday', name: '春节' },
        { date: '2027-02-13', kind: 'adjusted_working_day', name: '补春节' },
      ],
    };

    test('only an admin may load a year', async () => {
      const response = await request(app).put('/admin/calendar/2027').set(as('manager')).send(year2027);
      expect(response.status).toBe(403);
    });

    test.each([
      ['a date outside the year', { date: '2026-12-31', kind: 'holiday' }, 'days.1.date', /not in 2027/],
      ['a duplicate date', { date: '2027-01-01', kind: 'holiday' }, 'days.1.date', /more than once/],
      ['a weekday marked as an adjusted working day', { date: '2027-03-03', kind: 'adjusted_working_day' }, 'days.1.date', /weekday/],
      ['an impossible date', { date: '2027-02-29', kind: 'holiday' }, 'days.1.date', /date/],
      ['an unknown kind', { date: '2027-03-06', kind: 'half_day' }, 'days.1.kind', /./],
    ])('refuses %s with a 400 naming the entry, and changes nothing', async (_name, entry, field, message) => {
      const response = await request(app)
        .put('/admin/calendar/2027')
        .set(as('admin'))
        .send({ ...year2027, days: [{ date: '2027-01-01', kind: 'holiday' }, entry] });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'body', field, message: expect.stringMatching(message) })]);
      expect((await request(app).get('/calendar/years/2027').set(as('admin'))).status).toBe(404);
    });

    test('refuses a year outside the calendar, naming the path parameter', async () => {
      const response = await request(app).put('/admin/calendar/2100').set(as('admin')).send(year2027);
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'path', field: 'year' })]);
    });

    test('loads 2027, makes its deadlines final, and audits the change', async () => {
      const response = await request(app).put('/admin/calendar/2027').set(as('admin')).send(year2027);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ year: 2027, source: year2027.source, version: '2026-11-01', revision: 1, loadedBy: 'admin user', holidays: 8, adjustedWorkingDays: 1 });

      const add = await request(app).get('/calendar/working-days/add?from=2026-12-20&days=15').set(as('service_desk'));
      // 2027-01-01 is now a holiday: the same count ends one working day later, and is final.
      expect(add.body).toEqual({ due: '2027-01-11', dueAt: '2027-01-11T23:59:59+08:00', provisional: false, missingYears: [] });

      const audit = await database.db.selectFrom('audit_events').selectAll().where('action', '=', 'calendar.year_replaced').execute();
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: 'admin user', actor_role: 'admin', case_id: null });
      expect(audit[0]!.data).toMatchObject({ year: 2027, revision: 1, previous: null });
    });

    test('replacing a year swaps its days in one go and bumps the revision', async () => {
      const corrected = { ...year2027, version: '2026-11-15', days: year2027.days.filter((day) => day.date !== '2027-02-13') };
      const response = await request(app).put('/admin/calendar/2027').set(as('admin')).send(corrected);
      expect(response.body).toMatchObject({ revision: 2, holidays: 8, adjustedWorkingDays: 0 });
      const days = await database.db.selectFrom('calendar_days').select('date').where('year', '=', 2027).execute();
      expect(days).toHaveLength(8);
      const audit = await database.db.selectFrom('audit_events').select('data').where('action', '=', 'calendar.year_replaced').orderBy('occurred_at').execute();
      expect(audit[1]!.data).toMatchObject({ revision: 2, previous: { version: '2026-11-01', revision: 1 } });
    });
  });

  describe('SLA endpoints', () => {
    test('GET /sla/due across the National Day holiday', async () => {
      const response = await request(app).get('/sla/due').query({ start: '2026-09-30T15:00:00+08:00', class: 'NBD' }).set(as('service_desk'));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ slaClass: 'NBD', dueAt: '2026-10-08T17:00:00+08:00', provisional: false });
    });

    test('an unencoded + in the offset is understood', async () => {
      const response = await request(app).get('/sla/due?start=2026-09-30T15:00:00+08:00&class=5x8').set(as('service_desk'));
      expect(response.status).toBe(200);
      expect(response.body.dueAt).toBe('2026-10-08T15:00:00+08:00');
    });

    test('POST /sla/response-targets', async () => {
      const response = await request(app)
        .post('/sla/response-targets')
        .set(as('service_desk'))
        .send({ severity: 'serious', distanceKm: 250, start: '2026-10-01T10:00:00+08:00', repairedAt: '2026-10-01T18:00:00+08:00' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        phoneResponse: { dueAt: '2026-10-01T10:10:00+08:00' },
        temporarySolution: { dueAt: '2026-10-01T11:00:00+08:00' },
        onSite: { dueAt: '2026-10-01T13:00:00+08:00' },
        faultReport: { dueAt: '2026-10-02T18:00:00+08:00' },
      });
    });

    test('POST /sla/response-targets without a distance names distanceKm', async () => {
      const response = await request(app).post('/sla/response-targets').set(as('service_desk')).send({ severity: 'major', start: '2026-10-01T10:00:00+08:00' });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'distanceKm' })]);
    });
  });

  describe('POST /incidents/grade and /incidents/next-escalation', () => {
    test('grades without creating anything', async () => {
      const casesBefore = await database.db.selectFrom('cases').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const response = await request(app)
        .post('/incidents/grade')
        .set(as('manager'))
        .send({ customerClass: 'A', productFamily: 'network', affectedUsers: 4000, fire: 'box' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ isIncident: true, level: 2, outcome: 'new' });
      expect(response.body.rules.map((rule: { code: string }) => rule.code)).toEqual(['network_affected_users', 'fire_box']);
      const casesAfter = await database.db.selectFrom('cases').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      expect(casesAfter.n).toBe(casesBefore.n);
    });

    test('names a bad field', async () => {
      const response = await request(app).post('/incidents/grade').set(as('manager')).send({ customerClass: 'A', productFamily: 'network', serviceLostPercent: 150 });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: 'serviceLostPercent' })]);
    });

    test('level 3 escalates after one working day, across the adjusted working Saturday', async () => {
      const response = await request(app).post('/incidents/next-escalation').set(as('manager')).send({ ladderLevel: 3, levelEnteredAt: '2026-10-09T14:00:00+08:00' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ escalateAt: '2026-10-10T14:00:00+08:00', next: { level: 4 } });
    });
  });

  describe('goods and warranty endpoints', () => {
    test('a DOA application lists every failed condition', async () => {
      const response = await request(app)
        .post('/goods/doa-assessment')
        .set(as('service_desk'))
        .send({
          firstPowerOnAt: '2026-03-16T10:00:00+08:00',
          failedAt: '2026-03-19T10:00:00+08:00',
          appliedByEndUser: true,
          applicationFormProvided: true,
          photosProvided: false,
          isTestProductOrSample: false,
          originalPackagingProvided: true,
          packingMaterialsComplete: true,
          accessoriesCompleteAgainstPackingList: true,
          physicalDamage: false,
          sealsUnbroken: true,
          labelsComplete: true,
          originalHardwareAndPreinstalledSoftware: true,
        });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ eligible: false, remedy: 'offer_rma_repair' });
      expect(response.body.failedConditions.map((condition: { code: string }) => condition.code)).toEqual(['not_within_48h_of_power_on', 'photos_missing']);
    });

    test('claim window day 14 is in, day 15 out', async () => {
      const day14 = await request(app).get('/goods/claim-window').query({ kind: 'transport_damage', arrivedOn: '2026-03-01', claimedAt: '2026-03-15T18:00:00+08:00' }).set(as('service_desk'));
      const day15 = await request(app).get('/goods/claim-window').query({ kind: 'transport_damage', arrivedOn: '2026-03-01', claimedAt: '2026-03-16T09:00:00+08:00' }).set(as('service_desk'));
      expect([day14.body.withinWindow, day15.body.withinWindow]).toEqual([true, false]);
    });

    test('replacement warranty', async () => {
      const response = await request(app).get('/warranty/replacement?shippedOn=2026-03-01&originalWarrantyEndsOn=2027-06-30').set(as('service_desk'));
      expect(response.body).toMatchObject({ endsOn: '2027-06-30', basis: 'rest_of_original_warranty' });
    });
  });

  test('the endpoints are in the OpenAPI document', async () => {
    const response = await request(app).get('/openapi.json');
    for (const path of ['/admin/calendar/{year}', '/calendar/working-days/add', '/calendar/working-days/count', '/incidents/grade', '/sla/due', '/sla/response-targets']) {
      expect(Object.keys(response.body.paths)).toContain(path);
    }
  });
});
