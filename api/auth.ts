import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import { PREPARED, type Db } from '../db';
import type { User, UserRole } from '../db/schema';
import { CSRF_HEADER, POLL_HEADER, csrfTokenIsValid, findSession, sessionTokenOf } from './console/sessions';
import { ApiError } from './errors';

export interface Actor {
  id: string;
  name: string;
  role: UserRole;
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

const TOKEN_PREFIX = 'fo_';

export function generateApiToken(): string {
  return TOKEN_PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a user and returns its API token: the only time the token is ever visible. */
export async function createUserWithToken(
  db: Db,
  input: { name: string; email: string; role: UserRole },
): Promise<{ user: User; token: string }> {
  const token = generateApiToken();
  const user = await db
    .insertInto('users')
    .values({ name: input.name, email: input.email.toLowerCase(), role: input.role, token_hash: hashApiToken(token), disabled_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { user, token };
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Resolves the caller, if any, to an actor: a bearer token (programs) or a console session cookie
 * (people in a browser; api/console/sessions.ts). Routes decide whether one is required. A request
 * made with the session cookie that changes something must carry the session's CSRF token; the
 * console's own form routes (under /console/) check it themselves once their form is read.
 */
export function authenticate(db: Db): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) {
      const sessionToken = sessionTokenOf(req);
      if (!sessionToken) return next();
      const session = await findSession(db, sessionToken, new Date(), req.headers[POLL_HEADER] === undefined);
      if (!session) return next();
      req.consoleSession = session;
      req.actor = session.actor;
      if (UNSAFE_METHODS.has(req.method) && !req.path.startsWith('/console/') && !csrfTokenIsValid(req, session)) {
        return next(new ApiError(403, 'csrf_failed', `A request made with a console session must send the session's CSRF token in the ${CSRF_HEADER} header`));
      }
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return next(new ApiError(401, 'unauthenticated', 'The Authorization header must be "Bearer <token>"'));
    }
    const user = await db
      .selectFrom('users')
      .select(['id', 'name', 'role'])
      // Every request with a token runs this: planned once per connection.
      .modifyFront(PREPARED)
      .where('token_hash', '=', hashApiToken(match[1]))
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (!user) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      return next(new ApiError(401, 'unauthenticated', 'The API token is not valid'));
    }
    req.actor = user;
    next();
  };
}

export function requireActor(req: { actor?: Actor }, roles: readonly UserRole[]): Actor {
  if (!req.actor) throw new ApiError(401, 'unauthenticated', 'An API token is required: send "Authorization: Bearer <token>"');
  if (roles.length > 0 && !roles.includes(req.actor.role)) {
    throw new ApiError(403, 'forbidden', `This action needs one of the roles: ${roles.join(', ')}`, {
      requiredRoles: roles,
      role: req.actor.role,
    });
  }
  return req.actor;
}
