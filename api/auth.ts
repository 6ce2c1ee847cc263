import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Db } from '../db';
import type { User, UserRole } from '../db/schema';
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

/** Resolves the bearer token, if any, to an actor. Routes decide whether one is required. */
export function authenticate(db: Db): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return next(new ApiError(401, 'unauthenticated', 'The Authorization header must be "Bearer <token>"'));
    }
    const user = await db
      .selectFrom('users')
      .select(['id', 'name', 'role'])
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
