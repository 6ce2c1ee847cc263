import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { enqueueEmail } from '../../activities/shared/email';
import { SignedLinkError, type SignedLinkClaims, type SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { chinaTime } from './values';
import { CSRF_FIELD, clearSessionCookie, createSession, csrfTokenIsValid, revokeSession, rotateSessionIfDue, setSessionCookie } from './sessions';
import { byClientIp, rateLimit } from '../shared/rate-limit';
import type { ConsoleRenderer } from './render';

/*
 * Passwordless sign-in: a user asks for a link by email address; the email carries a signed link
 * (the same HMAC links customers get) scoped to `console_sign_in` and to that user, single-use,
 * valid 15 minutes. Opening it shows a button; pressing it (a POST, so that mail scanners that fetch
 * links do not use it up) records the link as used and starts a session. The answer to "email me a
 * link" is the same whether or not the address belongs to a user.
 */

export const SIGN_IN_ACTION = 'console_sign_in';
const SIGN_IN_TTL_HOURS = 0.25;
const formBody = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });
const emailSchema = z.email().max(254);

export interface SignInDependencies {
  db: Db;
  links: SignedLinks;
  publicBaseUrl: string;
  /** Secure cookies even over plain HTTP (production sits behind TLS). */
  secureCookies: boolean;
  render: ConsoleRenderer;
}

/** Sign-in is public: at most this many requests a minute from one client, and links asked for one address per 15 minutes. */
export const SIGN_IN_LIMITS = { perIpPerMinute: 60, linksPerEmailPer15Minutes: 5 } as const;

const emailOf = (body: unknown) => {
  const value = (body as Record<string, unknown> | undefined)?.email;
  return typeof value === 'string' ? value.trim().toLowerCase() : '';
};

/** A sign-in link for a user: the console page that signs them in, valid 15 minutes, once. */
export function issueSignInLink(links: SignedLinks, publicBaseUrl: string, userId: string, next = '/console'): { url: string; jti: string; expiresAt: Date } {
  const link = links.issue({ caseId: userId, action: SIGN_IN_ACTION, singleUse: true, ttlHours: SIGN_IN_TTL_HOURS });
  return { url: `${publicBaseUrl}/console/sign-in/${link.token}?next=${encodeURIComponent(next)}`, jti: links.verify(link.token).jti, expiresAt: link.expiresAt };
}

const crossSite = (req: Request) => req.headers['sec-fetch-site'] === 'cross-site';

function nextPathOf(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/[^\s\\]*)?$/.test(value) && !value.startsWith('//') ? value : '/console';
}

export function signInRouter(deps: SignInDependencies): Router {
  const router = express.Router();
  const limiter = rateLimit(deps.db, { name: 'console-sign-in', rules: [{ ...byClientIp, limit: SIGN_IN_LIMITS.perIpPerMinute, windowSeconds: 60 }] });
  const emailLimiter = rateLimit(deps.db, {
    name: 'console-sign-in-email',
    rules: [{ scope: 'email', limit: SIGN_IN_LIMITS.linksPerEmailPer15Minutes, windowSeconds: 900, keyOf: (req) => emailOf(req.body) || undefined }],
  });

  router.get('/console/sign-in', (req, res) => {
    deps.render.page(req, res, 200, 'sign-in', { next: nextPathOf(req.query.next), sent: false, email: '', signedOut: req.query.signedOut === '1', problem: undefined });
  });

  router.post('/console/sign-in', limiter, formBody, emailLimiter, async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = nextPathOf(body.next);
    const email = emailOf(body);
    if (crossSite(req)) return deps.render.message(req, res, 403, 'forbidden');
    if (!emailSchema.safeParse(email).success) {
      return deps.render.page(req, res, 400, 'sign-in', { next, sent: false, email, signedOut: false, problem: deps.render.textFor(req).ui.invalidEmail });
    }
    const user = await deps.db.selectFrom('users').select(['id', 'name', 'locale']).where('email', '=', email).where('disabled_at', 'is', null).executeTakeFirst();
    if (user) {
      const link = issueSignInLink(deps.links, deps.publicBaseUrl, user.id, next);
      const locale = user.locale ?? deps.render.textFor(req).locale;
      await enqueueEmail(deps.db, {
        idempotencyKey: `console-sign-in:${link.jti}`,
        to: { email, locale },
        template: 'console_sign_in',
        params: { name: user.name, signInUrl: link.url, validUntil: chinaTime(link.expiresAt.toISOString()) },
      });
    }
    deps.render.page(req, res, 200, 'sign-in', { next, sent: true, email, signedOut: false, problem: undefined });
  });

  /** The link's claims, or the reason it cannot sign anyone in. */
  async function signInClaims(token: string): Promise<SignedLinkClaims | 'expired' | 'used' | 'invalid'> {
    let claims: SignedLinkClaims;
    try {
      claims = deps.links.verify(token);
    } catch (error) {
      if (error instanceof SignedLinkError) return error.reason === 'expired' ? 'expired' : 'invalid';
      throw error;
    }
    if (claims.action !== SIGN_IN_ACTION || !claims.singleUse) return 'invalid';
    const used = await deps.db.selectFrom('signed_link_uses').select('token_id').where('token_id', '=', claims.jti).executeTakeFirst();
    return used ? 'used' : claims;
  }

  const refusal = { expired: [410, 'linkExpired'], used: [410, 'linkUsed'], invalid: [400, 'linkInvalid'] } as const;

  router.get('/console/sign-in/:token', limiter, async (req, res) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    const claims = await signInClaims(String(req.params.token));
    if (typeof claims === 'string') return deps.render.message(req, res, refusal[claims][0], refusal[claims][1], { href: '/console/sign-in', label: 'askAgain' });
    const user = await deps.db.selectFrom('users').select('name').where('id', '=', claims.caseId).where('disabled_at', 'is', null).executeTakeFirst();
    if (!user) return deps.render.message(req, res, 400, 'linkInvalid', { href: '/console/sign-in', label: 'askAgain' });
    deps.render.page(req, res, 200, 'sign-in-confirm', { name: user.name, next: nextPathOf(req.query.next) });
  });

  router.post('/console/sign-in/:token', limiter, formBody, async (req, res) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (crossSite(req)) return deps.render.message(req, res, 403, 'forbidden');
    const claims = await signInClaims(String(req.params.token));
    if (typeof claims === 'string') return deps.render.message(req, res, refusal[claims][0], refusal[claims][1], { href: '/console/sign-in', label: 'askAgain' });
    const now = new Date();
    const token = await deps.db.transaction().execute(async (trx) => {
      const reserved = await trx
        .insertInto('signed_link_uses')
        .values({ token_id: claims.jti, case_id: claims.caseId, action: claims.action, used_at: now })
        .onConflict((oc) => oc.column('token_id').doNothing())
        .returning('token_id')
        .executeTakeFirst();
      if (!reserved) return undefined;
      const user = await trx.selectFrom('users').select('id').where('id', '=', claims.caseId).where('disabled_at', 'is', null).executeTakeFirst();
      if (!user) return undefined;
      // A new session for every sign-in: a session id planted before sign-in is never promoted.
      return createSession(trx, { userId: user.id, userAgent: req.headers['user-agent'], now });
    });
    if (!token) return deps.render.message(req, res, 410, 'linkUsed', { href: '/console/sign-in', label: 'askAgain' });
    setSessionCookie(req, res, token, deps.secureCookies);
    res.redirect(303, nextPathOf((req.body as Record<string, unknown> | undefined)?.next ?? req.query.next));
  });

  router.post('/console/sign-out', formBody, async (req, res) => {
    const session = req.consoleSession;
    if (session) {
      if (!csrfTokenIsValid(req, session, (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD])) return deps.render.message(req, res, 403, 'forbidden');
      await revokeSession(deps.db, session.id, new Date());
    }
    clearSessionCookie(res);
    res.redirect(303, '/console/sign-in?signedOut=1');
  });

  return router;
}

/** Rotates the session's token when due; returns the token the rest of the request uses. */
export async function currentSessionToken(req: Request, res: Response, deps: { db: Db; secureCookies: boolean }, presented: string): Promise<string> {
  const session = req.consoleSession!;
  const rotated = await rotateSessionIfDue(deps.db, session, new Date());
  if (!rotated) return presented;
  setSessionCookie(req, res, rotated, deps.secureCookies);
  return rotated;
}
