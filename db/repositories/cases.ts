import { sql } from 'kysely';
import type { DbExecutor } from '../index';
import type { CaseKind } from '../schema';

/** The next human case number for a prefix and year, e.g. `SP-2026-000042`; gap-free within a committed transaction. */
export async function nextCaseNumber(db: DbExecutor, prefix: string, year: number): Promise<string> {
  const { last_value } = await db
    .insertInto('case_number_counters')
    .values({ prefix, year, last_value: 1 })
    .onConflict((oc) => oc.columns(['prefix', 'year']).doUpdateSet({ last_value: sql`case_number_counters.last_value + 1` }))
    .returning('last_value')
    .executeTakeFirstOrThrow();
  return `${prefix}-${year}-${String(last_value).padStart(6, '0')}`;
}

export async function insertCase(
  db: DbExecutor,
  input: { kind: CaseKind; number: string; status: string; customerId: string; deviceId: string | null; workflowId: string; at: Date },
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
