import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { sql } from 'kysely';
import type { Db } from '../../db';
import { ApiError } from '../errors';

/** One counter a request is counted under: by client address, by token, by email... */
export interface RateLimitRule {
  /** What is counted ('ip', 'token'...): part of the counter's key, and named in a 429's details. */
  readonly scope: string;
  /** Requests allowed in one window. */
  readonly limit: number;
  readonly windowSeconds: number;
  /** The value this request counts under for this rule; undefined: the rule does not count it. */
  keyOf(req: Request): string | undefined;
}

export interface RateLimitOptions {
  /** The limiter's name: counters of two limiters never mix, even for the same client. */
  readonly name: string;
  readonly rules: readonly RateLimitRule[];
}

/** The client's address as Express resolves it (`trust proxy`: loopback proxies' X-Forwarded-For). */
export const byClientIp: Pick<RateLimitRule, 'scope' | 'keyOf'> = { scope: 'ip', keyOf: (req) => req.ip ?? req.socket.remoteAddress };

/** How often a limiter deletes the counters whose window ended more than an hour ago. */
const PURGE_INTERVAL_MS = 60_000;

interface CounterRow {
  key_hash: string;
  hits: number;
  retry_after: number;
}

/**
 * A fixed-window rate limit kept in PostgreSQL (table rate_limit_counters), so that every API process
 * counts against the same limits. Each rule that applies to a request adds one hit to its counter
 * (one upsert for all of them); past any rule's limit the request is refused with 429, `Retry-After`
 * (seconds to the end of that window) and the JSON error model. Mount it before the routes it guards.
 */
export function rateLimit(db: Db, options: RateLimitOptions): RequestHandler {
  let lastPurge = 0;
  const hashOf = (rule: RateLimitRule, value: string) => createHash('sha256').update(`${options.name}\n${rule.scope}\n${value}`).digest('hex');

  return async (req, res, next) => {
    try {
      const counted = options.rules
        .map((rule) => ({ rule, value: rule.keyOf(req) }))
        .filter((entry): entry is { rule: RateLimitRule; value: string } => entry.value !== undefined && entry.value !== '')
        .map(({ rule, value }) => ({ rule, keyHash: hashOf(rule, value) }))
        // One lock order for every process: two requests upserting the same keys never deadlock.
        .sort((a, b) => (a.keyHash < b.keyHash ? -1 : a.keyHash > b.keyHash ? 1 : 0));
      if (counted.length === 0) return next();
      const rows = sql.join(counted.map(({ rule, keyHash }) => sql`(${keyHash}::text, ${rule.windowSeconds}::integer)`));
      const result = await sql<CounterRow>`
        insert into rate_limit_counters (key_hash, window_start, window_end, hits)
        select k.key_hash,
               to_timestamp(floor(extract(epoch from now()) / k.seconds) * k.seconds),
               to_timestamp(floor(extract(epoch from now()) / k.seconds) * k.seconds + k.seconds),
               1
        from (values ${rows}) as k(key_hash, seconds)
        on conflict (key_hash) do update set
          hits = case when rate_limit_counters.window_start = excluded.window_start then rate_limit_counters.hits + 1 else 1 end,
          window_start = excluded.window_start,
          window_end = excluded.window_end
        returning key_hash, hits, greatest(1, ceil(extract(epoch from window_end - now())))::integer as retry_after
      `.execute(db);
      const byKey = new Map(result.rows.map((row) => [row.key_hash, row]));
      const exceeded = counted
        .map(({ rule, keyHash }) => ({ rule, row: byKey.get(keyHash) }))
        .filter((entry): entry is { rule: RateLimitRule; row: CounterRow } => entry.row !== undefined && entry.row.hits > entry.rule.limit)
        .sort((a, b) => b.row.retry_after - a.row.retry_after)[0];
      purgeNowAndThen();
      if (!exceeded) return next();
      res.setHeader('Retry-After', String(exceeded.row.retry_after));
      next(
        new ApiError(429, 'rate_limited', `Too many requests: at most ${exceeded.rule.limit} in ${exceeded.rule.windowSeconds} s by ${exceeded.rule.scope}; try again in ${exceeded.row.retry_after} s`, {
          scope: exceeded.rule.scope,
          limit: exceeded.rule.limit,
          windowSeconds: exceeded.rule.windowSeconds,
          retryAfterSeconds: exceeded.row.retry_after,
        }),
      );
    } catch (error) {
      next(error);
    }
  };

  function purgeNowAndThen(): void {
    const now = Date.now();
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    sql`delete from rate_limit_counters where window_end < now() - interval '1 hour'`
      .execute(db)
      .catch(() => {
        // Stale counters are only clutter: the next purge takes them.
      });
  }
}

export interface LinkRateLimits {
  /** Requests to /links/... from one client address per minute (every link together). */
  readonly perIpPerMinute: number;
  /** Requests to one link (/links/<token>/...) per minute, from any address. */
  readonly perTokenPerMinute: number;
}

/**
 * The limit on the signed-link endpoints (customer links, application links; the JSON routes and
 * the HTML pages): by client address and by link. Mount it at `/links`.
 */
export function linkRateLimit(db: Db, limits: LinkRateLimits): RequestHandler {
  return rateLimit(db, {
    name: 'links',
    rules: [
      { ...byClientIp, limit: limits.perIpPerMinute, windowSeconds: 60 },
      // Mounted at /links: the path is /<token>[/...]; the token is counted, not stored (hashed).
      { scope: 'token', limit: limits.perTokenPerMinute, windowSeconds: 60, keyOf: (req) => req.path.split('/')[1] || undefined },
    ],
  });
}
