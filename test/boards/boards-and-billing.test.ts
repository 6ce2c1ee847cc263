import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import type { Clock } from '../../activities/shared/clock';
import { createMailer, type Mailer } from '../../activities/shared/mailer';
import { insertDocument } from '../../db/repositories/documents';
import type { CaseKind } from '../../db/schema';
import { createTestApp, testConfig } from '../support/app';
import { parseCsv } from '../support/csv';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { createCustomer, createContact, seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { bearer } from '../support/probes';

// GET /boards/deadlines, GET /invoice-lines (+ /export as CSV) and the campaign list's progress, on rows
// as the processes record them, against a fixed "now".

const NOW = new Date('2026-12-02T02:00:00Z');
const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);

describe('deadlines board, invoice lines and their CSV, campaign progress', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let company: ServiceCompany<'engineer' | 'billing' | 'manager' | 'service_desk'>;
  let otherCustomerId: string;
  let mailer: Mailer;
  const clock: Clock = { now: () => NOW };

  async function openCase(kind: CaseKind, number: string, customerId: string | null, closed = false) {
    const row = await database.db
      .insertInto('cases')
      .values({ kind, number, status: 'open', customer_id: customerId, device_id: null, workflow_id: `${kind}/${number}`, closed_at: closed ? at(-1) : null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function loan(number: string, status: string, dueAt: Date | null, overdueAt: Date | null = null) {
    const caseId = await openCase('spare_part', number, company.customerId, status === 'returned');
    const device = await company.addDevice(`SN-${number}`);
    await database.db
      .insertInto('spare_part_loans')
      .values({
        case_id: caseId, loan_number: number, customer_id: company.customerId, contact_id: company.contactId, failed_device_id: device.id,
        fault_description: 'card dead', delivery_address: 'Shanghai', status, applied_by: 'desk', applied_by_role: 'service_desk', applied_at: at(-400),
        return_due_at: dueAt, overdue_at: overdueAt,
      })
      .execute();
    return caseId;
  }

  async function faultRepair(number: string, targets: unknown[], closed = false) {
    const caseId = await openCase('fault_repair', number, company.customerId, closed);
    const device = await company.addDevice(`SN-${number}`);
    await database.db
      .insertInto('fault_repairs')
      .values({
        case_id: caseId, case_number: number, customer_id: company.customerId, contact_id: company.contactId, device_id: device.id,
        symptoms: 'no light', actions_taken: 'rebooted', suspected_cause: 'card', severity: 'major', status: 'diagnosis', reported_at: at(-1),
        registered_by: 'desk', registered_by_role: 'service_desk', sla_targets: JSON.stringify(targets),
      } as never)
      .execute();
  }

  const target = (name: string, dueInHours: number, state: string, metAt: string | null = null) => ({
    name, dueAt: at(dueInHours).toISOString(), warnAt: null, rule: { en: '', zh: '' }, state, warnedAt: null, breachedAt: state === 'missed' ? at(-0.5).toISOString() : null, metAt,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    mailer = createMailer({ smtpUrl: 'smtp://127.0.0.1:1', mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
    // A real client that never connects: these lists read the database only.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = createTestApp(database.db, { clock, temporal, mailer, config: testConfig });
    company = await seedServiceCompany(database.db, { roles: ['engineer', 'billing', 'manager', 'service_desk'] });
    const other = await createCustomer(database.db, { code: 'CU-SZ', name: 'Shenzhen Unicom, "South"', billing_day: 25 });
    otherCustomerId = other.id;
    await createContact(database.db, other.id, { name: 'Wang Fang', email: 'wang@cu.test' });

    await loan('SP-2026-000001', 'awaiting_return', at(2)); // due soon
    await loan('SP-2026-000002', 'overdue', at(-72), at(-71)); // overdue
    await loan('SP-2026-000003', 'awaiting_return', at(120)); // later
    await loan('SP-2026-000004', 'returned', at(-200)); // kept: not listed
    await loan('SP-2026-000005', 'overdue', at(10), at(-1)); // its process recorded it missed: overdue though the instant is ahead
    await faultRepair('FR-2026-000001', [
      target('phone_response', 0.5, 'pending'),
      target('temporary_solution', -1, 'missed'),
      target('on_site', -3, 'met', at(-4).toISOString()),
      target('restoration', 72, 'pending'),
    ]);
    await faultRepair('FR-2026-000002', [target('phone_response', 1, 'pending')], true); // closed case: not listed
    const rmaCase = await openCase('rma_repair', 'RMA-2026-000001', otherCustomerId);
    await database.db
      .insertInto('rma_repairs')
      .values({ source_ref: 'RMA-2026-000001', customer_id: otherCustomerId, status: 'awaiting_shipment', case_id: rmaCase, case_number: 'RMA-2026-000001', ship_due_at: at(-1) })
      .execute();
  }, 60_000);

  afterAll(async () => {
    mailer?.close();
    await database?.drop();
  });

  const board = (query: string, token = company.tokens.engineer) => request(app).get(`/boards/deadlines${query}`).set(bearer(token));
  const rowsOf = (body: { items: { caseNumber: string; kind: string; state: string; what: string }[] }) => body.items.map((item) => [item.caseNumber, item.kind, item.state]);

  test('every open deadline across processes, soonest first, each overdue, due soon (24 h) or later; kept, met and closed ones left out', async () => {
    const all = await board('').expect(200);
    expect(rowsOf(all.body)).toEqual([
      ['SP-2026-000002', 'spare_part_return', 'overdue'],
      ['FR-2026-000001', 'sla_target', 'overdue'],
      ['RMA-2026-000001', 'rma_ship_back', 'overdue'],
      ['FR-2026-000001', 'sla_target', 'due_soon'],
      ['SP-2026-000001', 'spare_part_return', 'due_soon'],
      ['SP-2026-000005', 'spare_part_return', 'overdue'],
      ['FR-2026-000001', 'sla_target', 'later'],
      ['SP-2026-000003', 'spare_part_return', 'later'],
    ]);
    expect(all.body.total).toBe(8);
    expect(all.body.items[0]).toEqual({
      caseNumber: 'SP-2026-000002', kind: 'spare_part_return', what: 'Return the failed part of loan SP-2026-000002', customerName: 'Shanghai Mobile',
      dueAt: at(-72).toISOString(), state: 'overdue', href: '/spare-parts/SP-2026-000002',
    });
    expect(all.body.items[1].what).toBe('SLA target temporary solution (major)');
    expect(all.body.items[2]).toMatchObject({ customerName: 'Shenzhen Unicom, "South"', href: '/rma-repairs/RMA-2026-000001' });
  });

  test('filters: state, kind, customer; paging; bad values are a 400 naming the parameter; a token is needed', async () => {
    expect(rowsOf((await board('?state=overdue').expect(200)).body).map((row) => row[0])).toEqual(['SP-2026-000002', 'FR-2026-000001', 'RMA-2026-000001', 'SP-2026-000005']);
    expect(rowsOf((await board('?state=due_soon').expect(200)).body).map((row) => row[0])).toEqual(['FR-2026-000001', 'SP-2026-000001']);
    expect((await board('?kind=sla_target').expect(200)).body.total).toBe(3);
    expect(rowsOf((await board(`?customerId=${otherCustomerId}`).expect(200)).body)).toEqual([['RMA-2026-000001', 'rma_ship_back', 'overdue']]);
    const page = await board('?state=all&limit=2&offset=2').expect(200);
    expect(page.body).toMatchObject({ total: 8, limit: 2, offset: 2 });
    expect(rowsOf(page.body).map((row) => row[0])).toEqual(['RMA-2026-000001', 'FR-2026-000001']);
    for (const [query, field] of [['?state=late', 'state'], ['?kind=parcel', 'kind'], ['?customerId=x', 'customerId']]) {
      const refused = await board(query!).expect(400);
      expect(refused.body.error.details).toEqual([expect.objectContaining({ in: 'query', field })]);
    }
    await request(app).get('/boards/deadlines').expect(401);
  });

  test('invoice lines by cycle and customer (billing, managers, admins), amounts in fen and yuan; the cycle as CSV, quoted and formula-safe', async () => {
    const caseId = (await database.db.selectFrom('cases').select('id').where('number', '=', 'SP-2026-000002').executeTakeFirstOrThrow()).id;
    await database.db
      .insertInto('invoice_lines')
      .values([
        { customer_id: company.customerId, case_id: caseId, billing_cycle: '2026-12', description: 'Unreturned part "NE40E-LPU", loan SP-2026-000002', amount_cents: 1_250_000, source_ref: 'spare-part/SP-2026-000002/overdue', created_at: at(-4) },
        { customer_id: company.customerId, case_id: caseId, billing_cycle: '2026-12', description: '=HYPERLINK("x") credit', amount_cents: -1_250_005, source_ref: 'spare-part/SP-2026-000002/overdue/credit', created_at: at(-3) },
        { customer_id: otherCustomerId, case_id: null, billing_cycle: '2026-12', description: 'Site visit\nafter hours', amount_cents: 9, source_ref: 'manual/1', created_at: at(-2) },
        { customer_id: company.customerId, case_id: caseId, billing_cycle: '2026-11', description: 'Older cycle', amount_cents: 100, source_ref: 'manual/2' },
      ])
      .execute();
    const lines = await request(app).get('/invoice-lines?cycle=2026-12').set(bearer(company.tokens.billing)).expect(200);
    expect(lines.body.total).toBe(3);
    expect(lines.body.items.map((line: { amount: string; amountCents: number; customerName: string }) => [line.customerName, line.amount, line.amountCents])).toEqual([
      ['Shanghai Mobile', '12500.00', 1_250_000],
      ['Shanghai Mobile', '-12500.05', -1_250_005],
      ['Shenzhen Unicom, "South"', '0.09', 9],
    ]);
    expect(lines.body.items[0]).toMatchObject({ caseNumber: 'SP-2026-000002', billingCycle: '2026-12', currency: 'CNY', href: '/spare-parts/SP-2026-000002' });
    expect((await request(app).get(`/invoice-lines?customerId=${otherCustomerId}`).set(bearer(company.tokens.manager)).expect(200)).body.total).toBe(1);
    expect((await request(app).get('/invoice-lines').set(bearer(company.tokens.billing)).expect(200)).body.items.at(-1).billingCycle).toBe('2026-11');
    await request(app).get('/invoice-lines').set(bearer(company.tokens.engineer)).expect(403);
    await request(app).get('/invoice-lines/export?cycle=2026-12').set(bearer(company.tokens.service_desk)).expect(403);
    const badCycle = await request(app).get('/invoice-lines?cycle=2026-13').set(bearer(company.tokens.billing)).expect(400);
    expect(badCycle.body.error.details).toEqual([expect.objectContaining({ in: 'query', field: 'cycle', message: 'must be a billing cycle YYYY-MM' })]);
    expect((await request(app).get('/invoice-lines/export').set(bearer(company.tokens.billing)).expect(400)).body.error.details[0].field).toBe('cycle');

    const csv = await request(app).get('/invoice-lines/export?cycle=2026-12').set(bearer(company.tokens.billing)).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
    }).expect(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="invoice-lines-2026-12.csv"');
    const text = csv.body as string;
    expect(text.startsWith('\uFEFFbilling_cycle,customer,')).toBe(true);
    expect(text).toContain('"Unreturned part ""NE40E-LPU"", loan SP-2026-000002"');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['billing_cycle', 'customer', 'customer_id', 'case_number', 'description', 'amount_yuan', 'amount_cents', 'currency', 'source_ref', 'created_at']);
    expect(rows.slice(1).map((row) => [row[1], row[3], row[4], row[5], row[6], row[8]])).toEqual([
      ['Shanghai Mobile', 'SP-2026-000002', 'Unreturned part "NE40E-LPU", loan SP-2026-000002', '12500.00', '1250000', 'spare-part/SP-2026-000002/overdue'],
      ['Shanghai Mobile', 'SP-2026-000002', '\'=HYPERLINK("x") credit', '-12500.05', '-1250005', 'spare-part/SP-2026-000002/overdue/credit'],
      ['Shenzhen Unicom, "South"', '', 'Site visit\nafter hours', '0.09', '9', 'manual/1'],
    ]);
  });

  test('the campaign list is a page with each campaign\'s progress counted from its devices', async () => {
    const caseId = await openCase('batch_rectification', 'RC-2026-000001', null);
    const plan = await insertDocument(database.db, { id: randomUUID(), caseId, kind: 'rectification_plan', title: 'Plan', steps: ['manager_approval'], contactId: null, createdBy: 'test' });
    await database.db
      .insertInto('rectification_campaigns')
      .values({
        case_id: caseId, case_number: 'RC-2026-000001', status: 'rolling_out', title: 'Fan firmware', defect_type: 'software_bug', description: 'Fans stall',
        affected: JSON.stringify({ productCodes: ['NE40E-LPU'], serials: [], serialRanges: [] }), solution: JSON.stringify({ kind: 'software', version: '2', patch: null, guide: 'g', instructions: 'i' }),
        solution_kind: 'software', effort_hours_per_device: '1', effort_parts_per_device: '[]', high_risk: false, device_count: 7, site_count: 1, customer_count: 1,
        total_hours: '7', total_parts: '[]', plan_document_id: plan.id, raised_by: 'rd', raised_by_role: 'rd_reviewer', created_at: at(-100), updated_at: at(-1),
      } as never)
      .execute();
    const statuses = ['rectified', 'rectified', 'rectified', 'declined', 'failed', 'awaiting_customer_apply', 'awaiting_agreement'] as const;
    for (const [index, status] of statuses.entries()) {
      const device = await company.addDevice(`SN-RC-${index}`);
      await database.db.insertInto('rectification_devices').values({ campaign_case_id: caseId, device_id: device.id, customer_id: company.customerId, status, updated_at: at(-1) }).execute();
    }
    const list = await request(app).get('/rectification-campaigns?status=rolling_out').set(bearer(company.tokens.engineer)).expect(200);
    expect(list.body).toMatchObject({ total: 1, limit: 50, offset: 0 });
    expect(list.body.items[0]).toMatchObject({ caseNumber: 'RC-2026-000001', status: 'rolling_out', percentDone: 57, devicesRectified: 3, devicesDeclined: 1, devicesFailed: 1, devicesOpen: 2, devices: 7 });
    expect((await request(app).get('/rectification-campaigns?status=completed').set(bearer(company.tokens.engineer)).expect(200)).body).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
  });
});
