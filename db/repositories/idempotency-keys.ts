import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../index';

/** How long a key and its answer are kept: a retry after this is a new request. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
/** A request that holds its key this long without answering is taken to have died with its process. */
export const IDEMPOTENCY_IN_FLIGHT_LEASE_MINUTES = 5;

const expiredBefore = () => sql<Date>`now() - make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})`;
const leaseRunOutBefore = () => sql<Date>`now() - make_interval(mins => ${IDEMPOTENCY_IN_FLIGHT_LEASE_MINUTES})`;

/** One request under an idempotency key, as the key's table records it. */
export interface IdempotentRequest {
  principal: string;
  key: string;
  method: string;
  route: string;
  pathHash: string;
  bodyHash: string;
}

/** What an earlier request under the same key did; `response` is null while it is still in flight. */
export interface EarlierRequest {
  method: string;
  pathHash: string;
  bodyHash: string;
  response: { status: number; body: string } | null;
}

/**
 * Takes the key for this request unless a live request holds it: inserts the row, or replaces one that
 * expired or whose request died in flight. Returns the claim id the answer is recorded under, or
 * undefined when an earlier request holds the key (see `findEarlierRequest`).
 */
export async function claimIdempotencyKey(db: Db, request: IdempotentRequest): Promise<string | undefined> {
  const claimId = randomUUID();
  const values = {
    request_method: request.method,
    route: request.route,
    request_path_hash: request.pathHash,
    request_body_hash: request.bodyHash,
    claim_id: claimId,
    response_status: null,
    response_body: null,
    completed_at: null,
  };
  const claimed = await db
    .insertInto('idempotency_keys')
    .values({ principal: request.principal, idempotency_key: request.key, ...values })
    .onConflict((oc) =>
      oc
        .columns(['principal', 'idempotency_key'])
        .doUpdateSet({ ...values, created_at: sql<Date>`now()` })
        .where((eb) =>
          eb.or([
            eb('idempotency_keys.created_at', '<', expiredBefore()),
            eb.and([eb('idempotency_keys.response_status', 'is', null), eb('idempotency_keys.created_at', '<', leaseRunOutBefore())]),
          ]),
        ),
    )
    .returning('claim_id')
    .executeTakeFirst();
  return claimed?.claim_id;
}

/** The live (unexpired) request that holds the key, if any. */
export async function findEarlierRequest(db: Db, principal: string, key: string): Promise<EarlierRequest | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_method', 'request_path_hash', 'request_body_hash', 'response_status', 'response_body'])
    .where('principal', '=', principal)
    .where('idempotency_key', '=', key)
    .where('created_at', '>=', expiredBefore())
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    method: row.request_method,
    pathHash: row.request_path_hash,
    bodyHash: row.request_body_hash,
    response: row.response_status === null || row.response_body === null ? null : { status: row.response_status, body: row.response_body },
  };
}

/** Records the answer of the request that claimed the key, for its retries to replay. */
export async function recordIdempotentAnswer(db: Db, principal: string, key: string, claimId: string, answer: { status: number; body: string }): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ response_status: answer.status, response_body: answer.body, completed_at: sql<Date>`now()` })
    .where('principal', '=', principal)
    .where('idempotency_key', '=', key)
    .where('claim_id', '=', claimId)
    .execute();
}

/** Gives the key up (the request failed on the server's side): a retry runs the request again. */
export async function releaseIdempotencyKey(db: Db, principal: string, key: string, claimId: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('principal', '=', principal).where('idempotency_key', '=', key).where('claim_id', '=', claimId).execute();
}

/** Deletes the expired keys; returns how many. */
export async function purgeExpiredIdempotencyKeys(db: Db): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', expiredBefore()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
