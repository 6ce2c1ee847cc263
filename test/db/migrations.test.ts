import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { migrateDownToEmpty, migrateToLatest, openDatabase } from '../../db';
import { migrations } from '../../db/migrations';
import { createTestDatabase, type TestDatabase } from '../support/db';

async function userTables(db: TestDatabase['db']): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(db);
  return rows.map((row) => row.table_name);
}

describe('database migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(() => database.drop());

  test('every migration runs up on an empty PostgreSQL database, down to nothing, and up again', async () => {
    const applied = await migrateToLatest(database.db);
    expect(applied).toEqual(Object.keys(migrations).sort());
    expect(await userTables(database.db)).toEqual(
      expect.arrayContaining(['audit_events', 'cases', 'customers', 'email_outbox', 'invoice_lines', 'users']),
    );

    const rolledBack = await migrateDownToEmpty(database.db);
    expect(rolledBack).toEqual(Object.keys(migrations).sort().reverse());
    expect(await userTables(database.db)).toEqual([]);

    expect(await migrateToLatest(database.db)).toEqual(Object.keys(migrations).sort());
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  test('audit events are append-only: an update or a delete is refused by the database', async () => {
    await database.db
      .insertInto('audit_events')
      .values({ occurred_at: new Date(), actor: 'system', actor_role: 'system', action: 'test', comment: null, data: '{}', idempotency_key: null, case_id: null })
      .execute();
    await expect(database.db.updateTable('audit_events').set({ comment: 'changed' }).execute()).rejects.toThrow(/append-only/);
    await expect(database.db.deleteFrom('audit_events').execute()).rejects.toThrow(/append-only/);
  });
});

describe('embedded PostgreSQL (no DATABASE_URL)', () => {
  test('starts a real server under the data folder, migrates, is shared while running, persists and reopens', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-embedded-pg-'));
    fs.chmodSync(dataDir, 0o755); // as root, the server runs as the user postgres, which must reach its cluster
    try {
      const first = await openDatabase({ databaseUrl: undefined, dataDir }, { takeOwnership: true });
      expect(first.embedded?.startedHere).toBe(true);
      expect(fs.readFileSync(path.join(dataDir, 'database-url'), 'utf8')).toContain('@127.0.0.1:');
      expect(await migrateToLatest(first.db)).toEqual(Object.keys(migrations).sort());
      await first.db
        .insertInto('products')
        .values({ code: 'NE40E', name: 'Router', product_line: 'network', list_price_cents: 1_250_000 })
        .execute();

      // A second process on the same DATA_DIR (a CLI) connects to the running server and leaves it running.
      const cli = await openDatabase({ databaseUrl: undefined, dataDir });
      expect(cli.embedded?.startedHere).toBe(false);
      expect(await cli.db.selectFrom('products').select('code').execute()).toEqual([{ code: 'NE40E' }]);
      await cli.close();
      expect(await first.db.selectFrom('products').select('code').execute()).toEqual([{ code: 'NE40E' }]);
      await first.close();

      const second = await openDatabase({ databaseUrl: undefined, dataDir }, { takeOwnership: true });
      expect(second.embedded?.startedHere).toBe(true);
      expect(await migrateToLatest(second.db)).toEqual([]);
      const product = await second.db.selectFrom('products').selectAll().executeTakeFirstOrThrow();
      expect(product).toMatchObject({ code: 'NE40E', list_price_cents: 1_250_000 });
      await second.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
