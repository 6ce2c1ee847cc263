import { Migrator } from 'kysely';
import { migrations } from '../../db/migrations';
import { createContact, createCustomer, createDevice, createProduct } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/db';

// The RMA process migration keeps the records spare-part returns wrote before it valid: each becomes an
// internal RMA without a case (open -> in_stock_repair, repaired -> restocked) with its one part line.
const RMA_MIGRATION = '2026-12-04T02-00-00_rma_repair_process';

describe('migration 2026-12-04T02-00-00_rma_repair_process', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(() => database.drop());

  test('records written before it become internal RMAs with one part line each, in the new statuses', async () => {
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
    const names = Object.keys(migrations).sort();
    const before = names[names.indexOf(RMA_MIGRATION) - 1]!;
    expect((await migrator.migrateTo(before)).error).toBeUndefined();

    const db = database.db;
    const customer = await createCustomer(db);
    await createContact(db, customer.id);
    const product = await createProduct(db);
    const open = await createDevice(db, { customerId: customer.id, productId: product.id, serial: 'LEGACY-OPEN' });
    const repaired = await createDevice(db, { customerId: customer.id, productId: product.id, serial: 'LEGACY-DONE' });
    const receivedAt = new Date('2026-10-22T06:00:00Z');
    // Written as the spare-part return wrote them, with the columns of the time.
    for (const [device, status, ref] of [
      [open, 'open', 'SP-2026-000001/returned-part'],
      [repaired, 'repaired', 'SP-2026-000002/returned-part'],
    ] as const) {
      await db
        .insertInto('rma_repairs')
        .values({ source_ref: ref, customer_id: customer.id, device_id: device.id, origin_case_id: null, fault_description: `fault of ${device.serial}`, status, received_at: receivedAt })
        .execute();
    }

    expect((await migrator.migrateTo(RMA_MIGRATION)).error).toBeUndefined();
    const rows = await db
      .selectFrom('rma_repairs as r')
      .innerJoin('rma_repair_parts as p', 'p.rma_id', 'r.id')
      .select(['r.source_ref', 'r.status', 'r.origin', 'r.case_id', 'p.line', 'p.device_id', 'p.fault_description', 'p.status as part_status', 'p.received_serial', 'p.outcome'])
      .orderBy('r.source_ref')
      .execute();
    expect(rows).toEqual([
      { source_ref: 'SP-2026-000001/returned-part', status: 'in_stock_repair', origin: 'spare_part_return', case_id: null, line: 1, device_id: open.id, fault_description: 'fault of LEGACY-OPEN', part_status: 'received', received_serial: 'LEGACY-OPEN', outcome: null },
      { source_ref: 'SP-2026-000002/returned-part', status: 'restocked', origin: 'spare_part_return', case_id: null, line: 1, device_id: repaired.id, fault_description: 'fault of LEGACY-DONE', part_status: 'repaired', received_serial: 'LEGACY-DONE', outcome: 'repaired' },
    ]);
    await expect(db.updateTable('rma_repairs').set({ status: 'open' }).where('source_ref', '=', 'SP-2026-000001/returned-part').execute()).rejects.toThrow(/rma_repairs_status_check/);

    // And back: the old statuses return, the part lines go.
    expect((await migrator.migrateTo(before)).error).toBeUndefined();
    const restored = await db.selectFrom('rma_repairs').select(['source_ref', 'status']).orderBy('source_ref').execute();
    expect(restored).toEqual([
      { source_ref: 'SP-2026-000001/returned-part', status: 'open' },
      { source_ref: 'SP-2026-000002/returned-part', status: 'repaired' },
    ]);
  });
});
