import { Client, Connection } from '@temporalio/client';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import { createMailer } from '../../activities/shared/mailer';
import { loadLoan, listLoans } from '../../api/spare-part/read-model';
import { createPostgresDb } from '../../db';
import type { Database } from '../../db/schema';
import { createTestApp, testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { bearer } from '../support/probes';

// GET /spare-parts reads a page with a fixed number of queries, whatever its size (issue 18: it used
// to load each loan of the page with its own join, 52 queries for a page of 50). The queries are
// counted by Kysely's log hook on the app's own database handle.

const LOANS = 60;

describe('GET /spare-parts query count', () => {
  let database: TestDatabase;
  let counted: Kysely<Database>;
  let queries: string[];
  let company: ServiceCompany<'service_desk'>;
  let app: ReturnType<typeof createTestApp>;
  let mailer: ReturnType<typeof createMailer>;

  beforeAll(async () => {
    database = await createTestDatabase();
    queries = [];
    counted = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 4 }) }),
      log: (event) => {
        if (event.level === 'query') queries.push(event.query.sql);
      },
    });
    const db = database.db;
    company = await seedServiceCompany(db, { roles: ['service_desk'] });
    // Loans written as the steps leave them: two thirds waiting for their part, one third returned.
    for (let index = 1; index <= LOANS; index++) {
      const serial = `SN-LQ-${index}`;
      const loanNumber = `SP-2026-${String(index).padStart(6, '0')}`;
      const device = await company.addDevice(serial);
      const returned = index % 3 === 0;
      const kase = await db
        .insertInto('cases')
        .values({ kind: 'spare_part', number: loanNumber, status: returned ? 'returned' : 'awaiting_return', customer_id: company.customerId, device_id: device.id, workflow_id: `spare-part/${loanNumber}` })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('spare_part_loans')
        .values({
          case_id: kase.id,
          loan_number: loanNumber,
          customer_id: company.customerId,
          contact_id: company.contactId,
          failed_device_id: device.id,
          related_case_id: null,
          fault_description: `fault ${index}`,
          delivery_address: 'Shanghai',
          status: returned ? 'returned' : 'awaiting_return',
          applied_by: 'desk',
          applied_by_role: 'service_desk',
          applied_at: new Date('2026-03-02T02:00:00Z'),
          received_at: new Date('2026-03-03T02:00:00Z'),
          return_due_date: '2026-03-24',
          return_due_at: new Date('2026-03-24T15:59:59Z'),
          reminder_dates: ['2026-03-17', '2026-03-23'],
          first_reminder_date: '2026-03-17',
          returned_at: returned ? new Date('2026-03-10T02:00:00Z') : null,
        })
        .execute();
    }
    mailer = createMailer({ smtpUrl: 'smtp://127.0.0.1:1', mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
    // A real client that never connects: listing loans reads the database only.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = createTestApp(counted, { temporal, mailer, config: testConfig });
  });

  afterAll(async () => {
    mailer.close();
    await counted.destroy();
    await database.drop();
  });

  async function listed(query: string): Promise<{ body: { items: Array<{ loanNumber: string; status: string; customerName: string; failedSerial: string }>; total: number }; queries: number }> {
    queries.length = 0;
    const response = await request(app).get(`/spare-parts?${query}`).set(bearer(company.tokens.service_desk)).expect(200);
    return { body: response.body, queries: queries.length };
  }

  test('a page of 5, of 40 and of 200 loans costs the same number of queries', async () => {
    const small = await listed('status=open&limit=5');
    const large = await listed('status=open&limit=40');
    const all = await listed('limit=200');
    expect(small.body.items).toHaveLength(5);
    expect(large.body.items).toHaveLength(40);
    expect(all.body.items).toHaveLength(LOANS);
    expect(large.queries).toBe(small.queries);
    expect(all.queries).toBe(small.queries);
    // The bearer token's lookup and the page (which counts every match too): nothing per loan.
    expect(small.queries).toBeLessThanOrEqual(3);
  });

  test('a page past the end is empty and still gives the total', async () => {
    const past = await listed('status=open&limit=10&offset=500');
    expect(past.body.items).toEqual([]);
    expect(past.body.total).toBe(LOANS - LOANS / 3);
  });

  test("a loan's detail, with its timeline and invoice lines, is one statement", async () => {
    const loanNumber = 'SP-2026-000003';
    const kase = await database.db.selectFrom('spare_part_loans').select('case_id').where('loan_number', '=', loanNumber).executeTakeFirstOrThrow();
    await database.db
      .insertInto('audit_events')
      .values([
        { case_id: kase.case_id, occurred_at: new Date('2026-03-02T02:00:00Z'), actor: 'desk', actor_role: 'service_desk', action: 'spare_part.applied', comment: null, data: JSON.stringify({}) },
        { case_id: kase.case_id, occurred_at: new Date('2026-03-17T01:00:00Z'), actor: 'system', actor_role: 'system', action: 'spare_part.reminder_sent', comment: 'first', data: JSON.stringify({ date: '2026-03-17' }) },
      ])
      .execute();
    await database.db
      .insertInto('invoice_lines')
      .values({ customer_id: company.customerId, case_id: kase.case_id, billing_cycle: '2026-04', description: 'billed', amount_cents: 1_250_000, source_ref: `spare-part/${loanNumber}/overdue` })
      .execute();
    queries.length = 0;
    const detail = (await request(app).get(`/spare-parts/${loanNumber}`).set(bearer(company.tokens.service_desk)).expect(200)).body as {
      timeline: Array<{ at: string; action: string; comment: string | null }>;
      remindersSent: string[];
      invoiceLines: Array<{ amountCents: number; billingCycle: string }>;
    };
    expect(queries.filter((text) => !text.includes('"users"'))).toHaveLength(1);
    expect(detail.timeline).toEqual([
      expect.objectContaining({ at: '2026-03-02T02:00:00.000Z', action: 'spare_part.applied', comment: null }),
      expect.objectContaining({ at: '2026-03-17T01:00:00.000Z', action: 'spare_part.reminder_sent', comment: 'first' }),
    ]);
    expect(detail.remindersSent).toEqual(['2026-03-17']);
    expect(detail.invoiceLines).toEqual([expect.objectContaining({ amountCents: 1_250_000, billingCycle: '2026-04' })]);
  });

  test('the page holds the same loans, in the same order and shape, as the detail gives', async () => {
    const page = await listed('status=open&limit=10&offset=3');
    expect(page.body.total).toBe(LOANS - LOANS / 3);
    const numbers = page.body.items.map((item) => item.loanNumber);
    expect(numbers).toEqual([...numbers].sort().reverse());
    expect(page.body.items.every((item) => item.status === 'awaiting_return')).toBe(true);
    const detail = (await request(app).get(`/spare-parts/${numbers[0]}`).set(bearer(company.tokens.service_desk)).expect(200)).body as Record<string, unknown>;
    expect(page.body.items[0]).toEqual({ ...detail, remindersSent: [], remindersSkipped: [], invoiceLines: [], timeline: [] });
    const closed = await listed('status=closed&limit=200');
    expect(closed.body.total).toBe(LOANS / 3);
    expect(closed.body.items.map((item) => item.failedSerial).sort()).toEqual(
      Array.from({ length: LOANS / 3 }, (_, index) => `SN-LQ-${(index + 1) * 3}`).sort(),
    );
  });

  test('the detail and the page run as prepared statements: planned once per connection, not at every request', async () => {
    const single = createPostgresDb(database.url, 1);
    try {
      const prepared = async () => (await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'fieldops_%'`.execute(single)).rows;
      expect(await prepared()).toEqual([]);
      for (const loanNumber of ['SP-2026-000001', 'SP-2026-000002', 'SP-2026-000001']) expect((await loadLoan(single, loanNumber)).loanNumber).toBe(loanNumber);
      for (const offset of [0, 10, 20]) expect((await listLoans(single, { statuses: ['awaiting_return'] }, { limit: 10, offset })).items).toHaveLength(10);
      const statements = await prepared();
      // One for the detail, one for the page; each reused for every loan number and offset.
      expect(statements).toHaveLength(2);
      expect(statements.every(({ statement }) => statement.includes('"spare_part_loans" as "l"'))).toBe(true);
      // The bearer token's lookup, which every authenticated request runs, too.
      const singleApp = createTestApp(single, { temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), mailer, config: testConfig });
      for (let index = 0; index < 2; index++) await request(singleApp).get('/spare-parts/SP-2026-000001').set(bearer(company.tokens.service_desk)).expect(200);
      expect((await prepared()).filter(({ statement }) => statement.includes('from "users"'))).toHaveLength(1);
    } finally {
      await single.destroy();
    }
  });
});
