import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { LOCALES, type Locale } from '../../db/schema';
import type { RouteEntry } from '../route';
import { BILLING_READERS } from '../billing/routes';
import { adminPage, calendarFormBody, calendarPage, calendarPreviewPage, calendarSave } from './admin';
import { consoleApiFor } from './api-client';
import { billingPage, boardsPage } from './boards';
import { myWorkPage, registrationFormPage, registrationsPage, resourcePage, type ConsolePageContext } from './pages';
import { createConsoleRenderer, type ConsoleSection } from './render';
import { CSRF_FIELD, csrfTokenIsValid, sessionTokenOf } from './sessions';
import { currentSessionToken, signInRouter } from './sign-in';

export interface ConsoleDependencies {
  db: Db;
  links: SignedLinks;
  publicBaseUrl: string;
  /** Secure cookies even over plain HTTP: everywhere but development and tests. */
  secureCookies: boolean;
  /** What "now" is for deadlines shown (the processes' clock). */
  clock: Clock;
  /** The API's route table: pages, forms and the actions each role sees come from it. */
  routeTable(): readonly RouteEntry[];
}

const ASSETS = path.join(__dirname, 'assets');
const formBody = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

/** The console's sections, in the order of its navigation. */
export const CONSOLE_SECTIONS: ConsoleSection[] = [
  { href: '/console', label: 'myWork' },
  { href: '/console/cases', label: 'cases' },
  { href: '/console/new', label: 'register' },
  { href: '/console/boards', label: 'boards' },
  { href: '/console/billing', label: 'billing', roles: BILLING_READERS },
  { href: '/console/admin', label: 'admin', roles: ['admin'] },
];

function assetVersion(): string {
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(ASSETS).sort()) hash.update(fs.readFileSync(path.join(ASSETS, name)));
  return hash.digest('hex').slice(0, 12);
}

const sameOriginPath = (value: unknown) => (typeof value === 'string' && /^\/console(\/[^\s\\]*)?(\?[^\s\\]*)?$/.test(value) ? value : '/console');

/**
 * The staff console (server-rendered HTML with one small script): sign-in, My work, a page for every
 * API resource a role may read, with forms for the actions it may take, and registration forms.
 */
export function consoleRouter(deps: ConsoleDependencies): Router {
  const router = express.Router();
  const render = createConsoleRenderer(CONSOLE_SECTIONS, assetVersion());

  router.use('/console/assets', express.static(ASSETS, { maxAge: '1d', index: false, fallthrough: false }));
  router.use(signInRouter({ db: deps.db, links: deps.links, publicBaseUrl: deps.publicBaseUrl, secureCookies: deps.secureCookies, render }));

  // Every other console page needs a signed-in person (a bearer token is for programs).
  const pageContext = async (req: Request, res: Response): Promise<ConsolePageContext | undefined> => {
    const presented = sessionTokenOf(req);
    if (!req.consoleSession || !presented) {
      res.redirect(303, `/console/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
      return undefined;
    }
    const token = await currentSessionToken(req, res, deps, presented);
    const text = render.textFor(req);
    return { req, res, api: consoleApiFor(req, token, text.locale), text, table: deps.routeTable(), render, now: deps.clock.now() };
  };
  const page = (handler: (ctx: ConsolePageContext) => Promise<void> | void) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const ctx = await pageContext(req, res);
      if (ctx) await handler(ctx);
    } catch (error) {
      next(error);
    }
  };

  router.post('/console/language', formBody, async (req, res) => {
    const session = req.consoleSession;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!session || !csrfTokenIsValid(req, session, body[CSRF_FIELD])) return render.message(req, res, 403, 'forbidden');
    const locale = (LOCALES as readonly string[]).includes(String(body.locale)) ? (body.locale as Locale) : null;
    await deps.db.updateTable('users').set({ locale }).where('id', '=', session.actor.id).execute();
    res.redirect(303, sameOriginPath(body.returnTo));
  });

  router.get('/console', page(myWorkPage));
  router.get('/console/new', page(registrationsPage));
  router.get('/console/boards', page(boardsPage));
  router.get('/console/billing', page(billingPage));
  router.get('/console/new/*path', page((ctx) => registrationFormPage(ctx, ctx.req.path.slice('/console/new'.length))));
  router.get('/console/admin', page((ctx) => (ctx.req.consoleSession!.actor.role === 'admin' ? adminPage(ctx) : ctx.render.message(ctx.req, ctx.res, 403, 'forbidden', { href: '/console', label: 'myWork' }))));
  router.get('/console/admin/calendar/:year', page((ctx) => calendarPage(ctx)));
  router.post('/console/admin/calendar/:year/preview', calendarFormBody, page(calendarPreviewPage));
  router.post('/console/admin/calendar/:year/save', calendarFormBody, page(calendarSave));
  router.get('/console/cases/:caseNumber', page(async (ctx) => {
    const answer = await ctx.api.get(`/cases/${encodeURIComponent(String(ctx.req.params.caseNumber))}`);
    const href = (answer.body as { href?: unknown } | null)?.href;
    if (answer.status !== 200 || typeof href !== 'string') return ctx.render.message(ctx.req, ctx.res, 404, 'notFound', { href: '/console', label: 'myWork' });
    ctx.res.redirect(303, `/console${href}`);
  }));
  router.get('/console/*path', page((ctx) => resourcePage(ctx, ctx.req.path.slice('/console'.length))));
  return router;
}
