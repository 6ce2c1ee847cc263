import { sql } from 'kysely';
import type { Db, DbExecutor } from '../index';
import type { CaseKind } from '../schema';

const PREFIX = /^[A-Z]{1,8}$/;

/** The sequence that numbers a prefix's cases of one year, e.g. `case_number_sp_2026`. */
export function caseNumberSequenceName(prefix: string, year: number): string {
  if (!PREFIX.test(prefix) || !Number.isInteger(year) || year < 1000 || year > 9999) throw new Error(`no case numbers for prefix ${prefix} and year ${year}`);
  return `case_number_${prefix.toLowerCase()}_${year}`;
}

function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

const UNDEFINED_TABLE = '42P01';
const DUPLICATE_TABLE = '42P07';
const UNIQUE_VIOLATION = '23505';

/**
 * The next human case number for a prefix and year, e.g. `SP-2026-000042`, from a PostgreSQL sequence
 * (one per prefix and year, created on first use; see the 2026-12-02 migration). nextval is not
 * transactional: a number is never handed out twice, even when the transaction that used it failed,
 * so numbering may have gaps (a failed application, a crashed API); it has no duplicates.
 *
 * Takes the database, not a transaction: the sequence it may create must not roll back with a failed
 * transaction (that would hand its first numbers out again), and a failed nextval would abort one.
 */
export async function nextCaseNumber(db: Db, prefix: string, year: number): Promise<string> {
  if (db.isTransaction) throw new Error('nextCaseNumber must run outside a transaction');
  const name = caseNumberSequenceName(prefix, year);
  let value: string | undefined;
  for (let attempt = 1; value === undefined; attempt++) {
    try {
      const { rows } = await sql<{ value: string }>`select nextval(${name}::regclass)::text as value`.execute(db);
      value = rows[0]!.value;
    } catch (error) {
      if (pgErrorCode(error) !== UNDEFINED_TABLE || attempt > 2) throw error;
      // Two first applications of a year may race here: `if not exists` does not stop the loser
      // from failing on the catalog's unique index, but by then the winner's sequence exists.
      await sql`create sequence if not exists ${sql.id(name)} as bigint minvalue 1`.execute(db).catch((createError: unknown) => {
        const code = pgErrorCode(createError);
        if (code !== DUPLICATE_TABLE && code !== UNIQUE_VIOLATION) throw createError;
      });
    }
  }
  return `${prefix}-${year}-${value.padStart(6, '0')}`;
}

export async function insertCase(
  db: DbExecutor,
  input: { kind: CaseKind; number: string; status: string; customerId: string | null; deviceId: string | null; workflowId: string; at: Date },
): Promise<string> {
  const { id } = await db
    .insertInto('cases')
    .values({
      kind: input.kind,
      number: input.number,
      status: input.status,
      customer_id: input.customerId,
      device_id: input.deviceId,
      workflow_id: input.workflowId,
      created_at: input.at,
      updated_at: input.at,
      closed_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** The case's status change, not executed: a process step runs it together with its own row's change. */
export function caseStatusUpdate(db: DbExecutor, caseId: string, status: string, at: Date, closed = false) {
  return db
    .updateTable('cases')
    .set({ status, updated_at: at, ...(closed ? { closed_at: at } : {}) })
    .where('id', '=', caseId);
}
