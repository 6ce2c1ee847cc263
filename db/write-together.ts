import { sql, type OperationNodeSource } from 'kysely';
import type { DbExecutor } from './index';

/** An INSERT, UPDATE or DELETE built with Kysely, not executed. */
export type WriteQuery = OperationNodeSource;
/** An INSERT ending in `RETURNING … AS inserted_key`: it reports the keys of the rows it inserted. */
export type KeyedInsert = OperationNodeSource;

/**
 * Runs data-modifying queries as one statement, each a common table expression: one round trip,
 * and they commit together or not at all, inside a transaction or on their own. They all see the
 * database as it was when the statement began, so none may depend on another's change and no two
 * may change the same row. Returns the keys the `keyed` inserts inserted (a conflict inserts none).
 */
export async function writeTogether(db: DbExecutor, writes: readonly WriteQuery[], keyed: readonly KeyedInsert[] = []): Promise<Set<string>> {
  if (writes.length === 0 && keyed.length === 0) return new Set();
  const parts = [
    ...writes.map((query, index) => sql`${sql.id(`w${index}`)} as (${query})`),
    ...keyed.map((query, index) => sql`${sql.id(`k${index}`)} as (${query})`),
  ];
  const inserted =
    keyed.length === 0
      ? sql`select null::text as inserted_key where false`
      : sql.join(
          keyed.map((_, index) => sql`select inserted_key from ${sql.id(`k${index}`)}`),
          sql` union all `,
        );
  const { rows } = await sql<{ inserted_key: string }>`with ${sql.join(parts)} ${inserted}`.execute(db);
  return new Set(rows.map((row) => row.inserted_key));
}
