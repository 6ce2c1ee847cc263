import { writeTogether } from '../../db/write-together';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('writeTogether: the writes of one step as one statement', () => {
  let database: TestDatabase;
  let customerId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ id: customerId } = await database.db
      .insertInto('customers')
      .values({ code: 'W1', name: 'Before', customer_class: 'B', sla_class: 'NBD', billing_day: 25, spare_part_first: true, downgraded_at: null })
      .returning('id')
      .executeTakeFirstOrThrow());
  });

  afterAll(async () => {
    await database.drop();
  });

  const auditInsert = (key: string) =>
    database.db
      .insertInto('audit_events')
      .values({ case_id: null, occurred_at: new Date(), actor: 'test', actor_role: 'system', action: 'test.write', comment: null, data: '{}', idempotency_key: key })
      .onConflict((oc) => oc.column('idempotency_key').doNothing());

  test('an update and an insert given together are both applied', async () => {
    await writeTogether(database.db, [database.db.updateTable('customers').set({ name: 'Together' }).where('id', '=', customerId), auditInsert('together/1')]);

    const customer = await database.db.selectFrom('customers').select('name').where('id', '=', customerId).executeTakeFirstOrThrow();
    const audit = await database.db.selectFrom('audit_events').select('action').where('idempotency_key', '=', 'together/1').execute();
    expect(customer.name).toBe('Together');
    expect(audit).toEqual([{ action: 'test.write' }]);
  });

  test('when one write fails, none of the others is applied', async () => {
    const contactOfNoCustomer = database.db
      .insertInto('contacts')
      .values({ customer_id: '00000000-0000-0000-0000-000000000000', name: 'Nobody', email: 'nobody@example.test', locale: 'en', phone: null });

    await expect(
      writeTogether(database.db, [database.db.updateTable('customers').set({ name: 'Half written' }).where('id', '=', customerId), auditInsert('together/2'), contactOfNoCustomer]),
    ).rejects.toThrow(/foreign key/);

    const customer = await database.db.selectFrom('customers').select('name').where('id', '=', customerId).executeTakeFirstOrThrow();
    const audit = await database.db.selectFrom('audit_events').select('id').where('idempotency_key', '=', 'together/2').execute();
    expect(customer.name).toBe('Together');
    expect(audit).toEqual([]);
  });

  test('keyed inserts report the keys they inserted, and a repeated run inserts and reports none', async () => {
    const keyed = (key: string) => auditInsert(key).returning('idempotency_key as inserted_key');

    const first = await writeTogether(database.db, [], [keyed('keyed/a'), keyed('keyed/b')]);
    const again = await writeTogether(database.db, [], [keyed('keyed/a'), keyed('keyed/b'), keyed('keyed/c')]);

    expect([...first].sort()).toEqual(['keyed/a', 'keyed/b']);
    expect([...again]).toEqual(['keyed/c']);
    const { rows } = await database.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('rows')).where('idempotency_key', 'like', 'keyed/%').executeTakeFirstOrThrow();
    expect(Number(rows)).toBe(3);
  });

  test('nothing to write is no statement at all', async () => {
    await expect(writeTogether(database.db, [])).resolves.toEqual(new Set());
  });
});
