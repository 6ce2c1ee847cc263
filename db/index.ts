import fs from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, type MigrationResultSet, type Transaction } from 'kysely';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './schema';
import { migrations } from './migrations';

export type Db = Kysely<Database>;
/** The database or an open transaction: repository functions take either, first. */
export type DbExecutor = Db | Transaction<Database>;

export interface DbConfig {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Connections in the pool (PostgreSQL only); default 10. */
  readonly databasePoolSize?: number;
}

const PG_DATE_OID = 1082;
const PG_INT8_OID = 20;

// Calendar dates stay 'YYYY-MM-DD' strings: turning them into a JS Date would shift them by the local time zone.
pg.types.setTypeParser(PG_DATE_OID, (value: string) => value);

export interface CreatedDb {
  readonly db: Db;
  /** Where the data lives, for logs: the server URL without its password, or the embedded folder. */
  readonly description: string;
  readonly embedded: boolean;
}

/**
 * With DATABASE_URL: a pg Pool against PostgreSQL. Without it: an embedded PostgreSQL (PGlite)
 * persisted under `<dataDir>/pglite`, so that development needs no database server.
 */
export function createDb(config: DbConfig): CreatedDb {
  if (config.databaseUrl) {
    // A burst waits for a free connection rather than failing at once; activities retry past this anyway.
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolSize ?? 10, connectionTimeoutMillis: 15_000 });
    pool.on('error', () => {
      // An idle client lost its server; the pool replaces it on the next checkout and readiness reports it.
    });
    const url = new URL(config.databaseUrl);
    url.password = '';
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), description: url.toString(), embedded: false };
  }
  const directory = path.join(config.dataDir, 'pglite');
  fs.mkdirSync(directory, { recursive: true });
  const pglite = new PGlite(directory, {
    parsers: { [PG_DATE_OID]: (value: string) => value, [PG_INT8_OID]: (value: string) => value },
    serializers: { [pgliteTypes.DATE]: (value: unknown) => (value instanceof Date ? value.toISOString() : String(value)) },
  });
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), description: `embedded PGlite at ${directory}`, embedded: true };
}

function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
}

function assertMigrationSucceeded({ error, results }: MigrationResultSet): void {
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error : new Error(error === undefined ? 'unknown error' : JSON.stringify(error));
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${cause.message}`, { cause });
  }
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const resultSet = await createMigrator(db).migrateToLatest();
  assertMigrationSucceeded(resultSet);
  return (resultSet.results ?? []).map((result) => result.migrationName);
}

/** Rolls every migration back, newest first. */
export async function migrateDownToEmpty(db: Db): Promise<string[]> {
  const migrator = createMigrator(db);
  const names: string[] = [];
  for (;;) {
    const resultSet = await migrator.migrateDown();
    assertMigrationSucceeded(resultSet);
    const done = resultSet.results ?? [];
    if (done.length === 0) return names;
    names.push(...done.map((result) => result.migrationName));
  }
}

export async function pingDb(db: Db, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
