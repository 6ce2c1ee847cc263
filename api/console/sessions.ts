import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Db } from '../../db';
import type { Locale } from '../../db/schema';
import type { Actor } from '../auth';
import { readCookie } from '../shared/cookies';

/*
 * Staff console sessions. The cookie holds a random token; the database holds its SHA-256, so a
 * leaked table gives no session. A session ends after 8 hours without a request (idle timeout), when
 * its user signs out (revoked here, so every API process refuses it at once) or is disabled. Its
 * token is replaced at sign-in and every 15 minutes of use (rotation); the previous token stays valid
 * for a minute, for requests already in flight. State-changing requests made with the cookie must
 * carry the session's CSRF token (header `X-CSRF-Token`, or `_csrf` in a form) and must not come from
 * another site.
 */

export const SESSION_COOKIE = 'fo_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
/** Sent by the console's background polling: not activity for the idle timeout. */
export const POLL_HEADER = 'x-console-poll';
export const SESSION_IDLE_TIMEOUT_MS = 8 * 3_600_000;
export const SESSION_ROTATION_MS = 15 * 60_000;
const PREVIOUS_TOKEN_GRACE_MS = 60_000;
/** `last_seen_at` is written at most this often: enough for an 8-hour idle timeout. */
const LAST_SEEN_RESOLUTION_MS = 60_000;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSession {
  id: string;
  csrfToken: string;
  actor: Actor;
  email: string;
  locale: Locale | null;
  rotatedAt: Date;
  /** The token this request presented was the one before the last rotation. */
  viaPreviousToken: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    consoleSession?: ConsoleSession;
  }
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

export async function createSession(db: Db, input: { userId: string; userAgent: string | undefined; now: Date }): Promise<string> {
  const token = newToken();
  await db
    .insertInto('console_sessions')
    .values({
      user_id: input.userId,
      token_hash: hashToken(token),
      csrf_token: newToken(),
      created_at: input.now,
      rotated_at: input.now,
      last_seen_at: input.now,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
    })
    .execute();
  return token;
}

/**
 * The live session a cookie token belongs to, or undefined. A request counts as activity (`touch`)
 * unless it is the console's own background polling, so an open tab does not keep a session alive.
 */
export async function findSession(db: Db, token: string, now: Date, touch = true): Promise<ConsoleSession | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const hash = hashToken(token);
  const row = await db
    .selectFrom('console_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.csrf_token', 's.token_hash', 's.previous_valid_until', 's.rotated_at', 's.last_seen_at', 'u.id as user_id', 'u.name', 'u.role', 'u.email', 'u.locale'])
    .where((eb) => eb.or([eb('s.token_hash', '=', hash), eb('s.previous_token_hash', '=', hash)]))
    .where('s.revoked_at', 'is', null)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const viaPreviousToken = row.token_hash !== hash;
  if (viaPreviousToken && (!row.previous_valid_until || new Date(row.previous_valid_until).getTime() <= now.getTime())) return undefined;
  const lastSeen = new Date(row.last_seen_at).getTime();
  if (now.getTime() - lastSeen >= SESSION_IDLE_TIMEOUT_MS) return undefined;
  if (touch && now.getTime() - lastSeen >= LAST_SEEN_RESOLUTION_MS) {
    await db.updateTable('console_sessions').set({ last_seen_at: now }).where('id', '=', row.id).execute();
  }
  return {
    id: row.id,
    csrfToken: row.csrf_token,
    actor: { id: row.user_id, name: row.name, role: row.role },
    email: row.email,
    locale: row.locale,
    rotatedAt: new Date(row.rotated_at),
    viaPreviousToken,
  };
}

/** A new token for the session when it is due (or `force`); the old one keeps working for a minute. */
export async function rotateSessionIfDue(db: Db, session: ConsoleSession, now: Date, force = false): Promise<string | undefined> {
  if (session.viaPreviousToken) return undefined;
  if (!force && now.getTime() - session.rotatedAt.getTime() < SESSION_ROTATION_MS) return undefined;
  const token = newToken();
  const rotated = await db
    .updateTable('console_sessions')
    .set((eb) => ({
      previous_token_hash: eb.ref('token_hash'),
      previous_valid_until: new Date(now.getTime() + PREVIOUS_TOKEN_GRACE_MS),
      token_hash: hashToken(token),
      rotated_at: now,
    }))
    .where('id', '=', session.id)
    .where('rotated_at', '=', session.rotatedAt)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  // Another request rotated it first: this one keeps the (still valid) token it came with.
  return rotated.numUpdatedRows > 0n ? token : undefined;
}

export async function revokeSession(db: Db, sessionId: string, now: Date): Promise<void> {
  await db.updateTable('console_sessions').set({ revoked_at: now }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
}

export function sessionTokenOf(req: Request): string | undefined {
  return readCookie(req, SESSION_COOKIE);
}

export function setSessionCookie(req: Request, res: Response, token: string, secureOutsideHttps: boolean): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: secureOutsideHttps || req.secure, path: '/' });
}

export function clearSessionCookie(res: Response): void {
  res.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** The request carries the session's CSRF token and does not say it comes from another site. */
export function csrfTokenIsValid(req: Request, session: ConsoleSession, formValue?: unknown): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false;
  const given = req.headers[CSRF_HEADER] ?? formValue;
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
