import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresDb, migrateToLatest, type Db } from '../../db';

/** The PostgreSQL server the tests use: DATABASE_URL (set by .ci/run), else the local server. */
export function testServerUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onAdminConnection<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly db: Db;
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server, for one test file; `migrate: false` leaves it without tables. */
export async function createTestDatabase(options: { migrate?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `fieldops_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onAdminConnection((client) => client.query(`create database ${name}`));
  const url = withDatabase(testServerUrl(), name);
  const db = createPostgresDb(url, options.poolSize);
  if (options.migrate !== false) await migrateToLatest(db);
  let dropped = false;
  return {
    db,
    url,
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.destroy();
      await onAdminConnection((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}
