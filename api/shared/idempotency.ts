import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db';
import {
  IDEMPOTENCY_KEY_TTL_HOURS,
  claimIdempotencyKey,
  findEarlierRequest,
  purgeExpiredIdempotencyKeys,
  recordIdempotentAnswer,
  releaseIdempotencyKey,
  type EarlierRequest,
  type IdempotentRequest,
} from '../../db/repositories/idempotency-keys';
import { ApiError } from '../errors';

/**
 * `Idempotency-Key` on POST requests, with Stripe's semantics: the first answer to a key is kept
 * 24 hours and replayed to a retry with the same key, path and body, which changes nothing.
 */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

const VALID_KEY = /^[\x20-\x7E]{1,255}$/;
const KEY_RULE = 'must be 1-255 printable ASCII characters';
/** Expired keys are deleted by a request at most this often per process. */
const PURGE_INTERVAL_MS = 60_000;

/** The header as the OpenAPI document shows it on every POST that changes something. */
export const idempotencyHeadersSchema = z.object({
  [IDEMPOTENCY_KEY_HEADER]: z
    .string()
    .min(1)
    .max(255)
    .regex(VALID_KEY)
    .optional()
    .meta({
      description:
        `A key of your choice (e.g. a UUID) that makes a retry safe: for ${IDEMPOTENCY_KEY_TTL_HOURS} h the same key with the same path and body ` +
        `answers the first response again (header \`${IDEMPOTENT_REPLAYED_HEADER}: true\`) and changes nothing; with another path or body it is a 422 ` +
        '`idempotency_key_reused`; while the first request runs, a 409 `idempotency_key_in_progress`. Server errors (5xx) are not kept. ' +
        'Keys are scoped to the caller (the user, or the signed link).',
    }),
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted, so that the same body hashes the same however its keys are ordered. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function refuseMismatch(earlier: EarlierRequest, request: IdempotentRequest): void {
  const problem =
    earlier.method !== request.method || earlier.pathHash !== request.pathHash
      ? 'was already used for another request path'
      : earlier.bodyHash !== request.bodyHash
        ? 'was already used with another request body'
        : undefined;
  if (problem) {
    throw new ApiError(422, 'idempotency_key_reused', `This ${IDEMPOTENCY_KEY_HEADER} ${problem}; use a new key for a new request`, {
      header: IDEMPOTENCY_KEY_HEADER,
    });
  }
}

function inProgress(): ApiError {
  return ApiError.conflict('idempotency_key_in_progress', `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry later`, {
    header: IDEMPOTENCY_KEY_HEADER,
  });
}

/**
 * Holds the route's JSON answer until it is recorded under the key: a 5xx gives the key up, any
 * other status is kept. A retry can therefore never see the key free before the answer is stored.
 */
function recordAnswerBeforeSending(req: Request, res: Response, record: (status: number, body: string) => Promise<void>, release: () => Promise<void>): void {
  const sendJson = res.json.bind(res);
  let answered = false;
  res.json = (body: unknown) => {
    // The route answers once; a second call (a handler that answered itself) is ignored.
    if (answered) return res;
    answered = true;
    const status = res.statusCode;
    const keep = status >= 500 ? release() : record(status, JSON.stringify(body));
    keep
      .catch((error: unknown) => req.log?.error({ err: error }, 'could not record the answer under the idempotency key'))
      .finally(() => {
        res.status(status);
        sendJson(body);
      });
    return res;
  };
}

export interface IdempotencyOptions {
  db: Db;
  /** The route pattern, stored for people reading the table. */
  route: string;
  /** Who the authenticated caller is (`user:<id>`, `link:<subject>`); without one the header is not honoured. */
  principalOf: (req: Request) => string | undefined;
  /** What the request's body is for comparing retries, when it is not `req.body` (e.g. a multipart upload's fields and file hashes). */
  bodyOf?: (req: Request) => unknown;
}

/** The middleware for one POST route; it runs after authentication and body parsing, before validation. */
export function idempotentRequests(options: IdempotencyOptions): RequestHandler {
  let lastPurge = 0;
  const purgeOccasionally = (req: Request) => {
    if (Date.now() - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = Date.now();
    purgeExpiredIdempotencyKeys(options.db).catch((error: unknown) => req.log?.warn({ err: error }, 'could not purge expired idempotency keys'));
  };

  return async (req, res, next) => {
    const key = req.get(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return next();
    if (!VALID_KEY.test(key)) throw ApiError.validation([{ in: 'header', field: IDEMPOTENCY_KEY_HEADER, message: KEY_RULE }]);
    const principal = options.principalOf(req);
    if (!principal) return next();
    purgeOccasionally(req);

    const request: IdempotentRequest = {
      principal,
      key,
      method: req.method,
      route: options.route,
      pathHash: sha256(req.originalUrl),
      bodyHash: sha256(canonicalJson(options.bodyOf ? options.bodyOf(req) : req.body)),
    };
    // Two rounds: the earlier request may give the key up (a 5xx) between our claim and our look.
    for (let round = 0; round < 2; round += 1) {
      const claimId = await claimIdempotencyKey(options.db, request);
      if (claimId) {
        recordAnswerBeforeSending(
          req,
          res,
          (status, body) => recordIdempotentAnswer(options.db, principal, key, claimId, { status, body }),
          () => releaseIdempotencyKey(options.db, principal, key, claimId),
        );
        return next();
      }
      const earlier = await findEarlierRequest(options.db, principal, key);
      if (!earlier) continue;
      refuseMismatch(earlier, request);
      if (!earlier.response) throw inProgress();
      res.status(earlier.response.status).set(IDEMPOTENT_REPLAYED_HEADER, 'true').type('application/json').send(earlier.response.body);
      return;
    }
    throw inProgress();
  };
}
