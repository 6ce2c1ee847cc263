import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { createHtmlTemplates } from '../../activities/shared/html';
import type { SignedLinkClaims } from '../../activities/shared/signed-links';
import { LOCALES, type Locale } from '../../db/schema';
import { ApiError, type FieldProblem } from '../errors';
import type { EvidenceService } from '../evidence/routes';
import { EVIDENCE_MULTIPART, evidenceUploadFieldsSchema, linkEvidenceUrls, toEvidenceDto } from '../evidence/store';
import type { LinkAction, LinkService } from '../routes/links';
import { readCookie } from '../shared/cookies';
import { createMultipartReader } from '../shared/multipart';
import { evidenceRefusalLines, evidenceSection, type EvidenceSectionView } from './evidence-section';
import { bodyFromForm, isLocale, type LinkPage, type PageFact, type PageField, type PageView, type Text } from './link-page';
import { evidenceStrings, formatChinaTime, strings } from './strings';

/*
 * Customer pages: the same URL as the JSON API of a link (`/links/:token`, the one in the email),
 * answered as HTML when a browser asks for it (Accept prefers text/html over JSON) and acted on by a
 * form POST (application/x-www-form-urlencoded). The JSON API answers everything else, unchanged.
 *
 * Why these protections:
 * - The token in the URL is the capability: whoever holds it may act, as with the JSON API. What a
 *   page must add is that a form submission comes from the page itself, so that another site cannot
 *   make a visitor's browser submit it (CSRF) or trick them into clicking it inside a frame.
 * - Form nonce, double-submit and bound to the link: a GET sets a random nonce in a cookie
 *   (HttpOnly, SameSite=Strict, Path limited to this link, Secure over HTTPS) and puts
 *   `nonce.HMAC(secret, jti, nonce)` in a hidden field. A POST is performed only when the field's MAC
 *   is right for this link and its nonce equals the cookie's. A cross-site POST carries no
 *   SameSite=Strict cookie; a field copied from another link fails the MAC. Stateless: any API
 *   process with the same SIGNED_LINK_SECRET accepts it, nothing is stored. A POST that says it is
 *   cross-site (`Sec-Fetch-Site: cross-site`) is refused as well.
 * - Headers: `Content-Security-Policy` allows no script at all, only the page's own inline style
 *   (by nonce), form posts to this origin only, and no framing (`frame-ancestors 'none'`, with
 *   `X-Frame-Options: DENY` for older browsers); `Referrer-Policy: no-referrer` and `Cache-Control:
 *   no-store` keep the token out of Referer headers and shared caches; `nosniff`.
 * - Every value is escaped by the template engine (Eta, autoEscape): no HTML is built by hand.
 */

const FORM_BODY_LIMIT = '64kb';
const NONCE_COOKIE = 'fo_form';
const NONCE_FIELD = '_nonce';
const LANG_FIELD = '_lang';
const NONCE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

type Tone = 'ok' | 'warn' | 'error';

interface PageContext {
  lang: Locale;
  /** The path of this link's page, without query. */
  path: string;
  styleNonce: string;
  /** Set when the page runs a script (the evidence upload widget): only that script may run. */
  scriptNonce?: string;
}

interface MessagePage {
  status: number;
  tone: Tone;
  title: Text;
  heading: Text;
  paragraphs?: Text[];
  facts?: PageFact[];
  link?: { href: string; label: Text };
  reference?: Text;
}

/** A 4xx the body parser raised (a form too large, a bad charset): its message may be shown. */
function clientHttpError(error: unknown): { status: number; message: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const { status, expose } = error as Error & { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true ? { status, message: error.message } : undefined;
}

export interface CustomerPagesDependencies {
  linkService: LinkService;
  /** The signed-link secret: form nonces are MACed with a key derived from it. */
  secret: string;
  /** Evidence of the link's case, for pages whose action declares `evidence` (the upload widget). */
  evidence?: EvidenceService;
}

/** The router of the customer pages; mount it before the JSON routes, which answer whatever it passes on. */
export function customerPagesRouter(deps: CustomerPagesDependencies): Router {
  const templates = createHtmlTemplates(path.join(__dirname, 'templates'));
  const nonceKey = createHmac('sha256', deps.secret).update('fieldops customer page form nonce').digest();
  const macOf = (claims: SignedLinkClaims, nonce: string) => createHmac('sha256', nonceKey).update(`${claims.jti}\n${nonce}`).digest('base64url');
  const router = express.Router();
  const readForm = express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 100 });

  function send(res: Response, status: number, html: string, ctx: PageContext): void {
    res
      .status(status)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${ctx.styleNonce}'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'${ctx.scriptNonce ? `; script-src 'nonce-${ctx.scriptNonce}'; connect-src 'self'` : ''}`,
        'X-Frame-Options': 'DENY',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      })
      .send(html);
  }

  function layoutData(ctx: PageContext, title: Text, tone: Tone | '') {
    return {
      lang: ctx.lang,
      title: title[ctx.lang],
      tone,
      styleNonce: ctx.styleNonce,
      brand: strings.footer[ctx.lang],
      switchLabel: strings.switchLanguage[ctx.lang],
      languages: LOCALES.map((lang) => ({ lang, label: strings.languageName[lang], href: `${ctx.path}?lang=${lang}`, current: lang === ctx.lang })),
    };
  }

  function renderMessage(res: Response, ctx: PageContext, page: MessagePage): void {
    const t = (value: Text) => value[ctx.lang];
    const html = templates.render('message', {
      ...layoutData(ctx, page.title, page.tone),
      heading: t(page.heading),
      paragraphs: (page.paragraphs ?? []).map(t),
      facts: (page.facts ?? []).map((fact) => ({ label: t(fact.label), value: typeof fact.value === 'string' ? fact.value : t(fact.value) })),
      link: page.link ? { href: page.link.href, label: t(page.link.label) } : undefined,
      reference: page.reference ? t(page.reference) : undefined,
    });
    send(res, page.status, html, ctx);
  }

  function renderForm(
    res: Response,
    ctx: PageContext,
    input: {
      status: number;
      claims: SignedLinkClaims;
      page: LinkPage;
      view: Extract<PageView, { kind: 'form' }>;
      values: Record<string, string>;
      errors: Map<string, string>;
      nonce: string;
      evidence?: EvidenceSectionView;
    },
  ): void {
    const { page, view, claims } = input;
    const t = (value: Text) => value[ctx.lang];
    const fieldId = (field: PageField) => `field-${field.name}`;
    const fields = page.fields.map((field) => ({
      id: fieldId(field),
      name: field.name,
      kind: field.kind,
      label: t(field.label),
      required: field.required,
      requirement: t(field.required ? strings.required : strings.optional),
      maxLength: field.maxLength,
      autocomplete: field.autocomplete,
      hint: field.hint ? t(field.hint) : (field.maxLength && field.kind === 'textarea' ? t(strings.maxCharacters(field.maxLength)) : undefined),
      value: input.values[field.name] ?? '',
      choices: (field.choices ?? []).map((choice) => ({ value: choice.value, label: t(choice.label), checked: input.values[field.name] === choice.value })),
      error: input.errors.get(field.name),
    }));
    const expires = formatChinaTime(new Date(claims.exp * 1000), ctx.lang);
    const html = templates.render('form', {
      ...layoutData(ctx, page.title, ''),
      greeting: view.recipientName ? t(strings.greeting(view.recipientName)) : undefined,
      intro: t(view.intro),
      facts: view.facts.map((fact) => ({ label: t(fact.label), value: typeof fact.value === 'string' ? fact.value : t(fact.value) })),
      notes: (view.notes ?? []).map(t),
      errorSummary: t(strings.errorSummary),
      errors: fields.filter((field) => field.error).map((field) => ({ id: field.id, text: t(strings.fieldNamed(field.label, field.error ?? '')) })),
      action: ctx.path,
      nonce: `${input.nonce}.${macOf(claims, input.nonce)}`,
      fields,
      submitLabel: t(page.submitLabel),
      evidence: input.evidence,
      validity: `${t(strings.validUntil(expires))}${claims.singleUse ? `${ctx.lang === 'en' ? ' ' : ''}${t(strings.singleUse)}` : ''}`,
    });
    send(res, input.status, html, ctx);
  }

  /** The page of a link that cannot act (expired, forged, used, refused...), or a server error. */
  function renderProblem(req: Request, res: Response, ctx: PageContext, error: unknown, page?: LinkPage): void {
    const title = page?.title ?? strings.failedHeading;
    if (error instanceof ApiError) {
      if (error.code === 'link_expired') {
        return renderMessage(res, ctx, { status: 410, tone: 'warn', title: strings.expiredHeading, heading: strings.expiredHeading, paragraphs: [strings.expiredMessage] });
      }
      if (error.code === 'link_used') {
        return renderMessage(res, ctx, { status: 410, tone: 'warn', title, heading: strings.usedHeading, paragraphs: [strings.usedMessage] });
      }
      if (error.code === 'link_invalid') {
        return renderMessage(res, ctx, { status: 401, tone: 'error', title: strings.invalidHeading, heading: strings.invalidHeading, paragraphs: [strings.invalidMessage] });
      }
      if (error.status < 500) {
        const problems = error.code === 'validation_failed' && Array.isArray(error.details) ? (error.details as FieldProblem[]) : [];
        const labelOf = (name: string) => page?.fields.find((field) => field.name === name)?.label[ctx.lang] ?? name;
        return renderMessage(res, ctx, {
          status: error.status,
          tone: 'error',
          title,
          heading: strings.failedHeading,
          paragraphs: problems.length > 0 ? problems.map((problem) => strings.fieldNamed(labelOf(problem.field), problem.message)) : [strings.reason(error.message)],
          link: { href: `${ctx.path}?lang=${ctx.lang}`, label: strings.openAgain },
        });
      }
    }
    const clientError = clientHttpError(error);
    if (clientError) {
      return renderMessage(res, ctx, { status: clientError.status, tone: 'error', title, heading: strings.failedHeading, paragraphs: [strings.reason(clientError.message)] });
    }
    // A server fault: the request line (api/shared/request-log.ts) logs it, with its stack, at error.
    res.err = error instanceof Error ? error : new Error(String(error));
    renderMessage(res, ctx, {
      status: 500,
      tone: 'error',
      title,
      heading: strings.serverErrorHeading,
      paragraphs: [strings.serverErrorMessage(typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : '-')],
    });
  }

  const wantsHtml = (req: Request) => req.accepts(['application/json', 'text/html']) === 'text/html';
  const isForm = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';

  /** The page's language: `?lang=` (or the form's), else the recipient's, else the browser's. */
  function languageOf(req: Request, chosen: unknown, view?: PageView): Locale {
    if (isLocale(chosen)) return chosen;
    if (view) return view.locale;
    const accepted = req.acceptsLanguages([...LOCALES, 'zh']);
    return accepted === 'en' ? 'en' : 'zh-CN';
  }

  function contextFor(req: Request, lang: Locale): PageContext {
    return { lang, path: `/links/${encodeURIComponent(String(req.params.token))}`, styleNonce: randomBytes(16).toString('base64url') };
  }

  function setNonceCookie(req: Request, res: Response, ctx: PageContext, nonce: string): void {
    res.cookie(NONCE_COOKIE, nonce, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: ctx.path });
  }

  function nonceCookie(req: Request): string | undefined {
    const nonce = readCookie(req, NONCE_COOKIE);
    return nonce !== undefined && NONCE_PATTERN.test(nonce) ? nonce : undefined;
  }

  /** The form came from this link's page, in a browser that holds the page's cookie (see the comment on top). */
  function formIsGenuine(req: Request, claims: SignedLinkClaims, form: Record<string, unknown>): boolean {
    if (req.headers['sec-fetch-site'] === 'cross-site') return false;
    const submitted = form[NONCE_FIELD];
    const cookie = nonceCookie(req);
    if (typeof submitted !== 'string' || !cookie) return false;
    const [nonce, mac, ...rest] = submitted.split('.');
    if (!nonce || !mac || rest.length > 0 || nonce !== cookie) return false;
    const expected = Buffer.from(macOf(claims, nonce));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /**
   * The link's claims, action and page, or the reason it has none (thrown as the JSON API would).
   * An action without a page yet gets `page: undefined`: its link is answered by the JSON API, as before pages.
   */
  function resolve(req: Request): { claims: SignedLinkClaims; action: LinkAction; page: LinkPage | undefined } {
    const claims = deps.linkService.verify(String(req.params.token));
    const action = deps.linkService.actionFor(claims);
    return { claims, action, page: action.page };
  }

  /** Messages for the fields the action's schema refused, in the page's language. */
  function fieldErrors(page: LinkPage, issues: readonly z.core.$ZodIssue[], lang: Locale): Map<string, string> {
    const errors = new Map<string, string>();
    for (const issue of issues) {
      const name = String(issue.path[0] ?? '');
      const field = page.fields.find((candidate) => candidate.name === name);
      if (!field || errors.has(name)) continue;
      let message: Text;
      if (issue.code === 'too_small' || (issue.code === 'invalid_type' && issue.input === undefined)) message = strings.fieldRequired;
      else if (issue.code === 'too_big' && typeof issue.maximum === 'number') message = strings.fieldTooLong(issue.maximum);
      else if (field.kind === 'choice') message = strings.fieldChoose;
      else message = strings.fieldInvalid(issue.message);
      errors.set(name, message[lang]);
    }
    return errors;
  }

  /**
   * The evidence widget of a form view that asks for evidence, when the link's action gives access to
   * it; the page's context then allows the widget's script.
   */
  async function evidenceOf(req: Request, ctx: PageContext, claims: SignedLinkClaims, action: LinkAction, view: PageView, nonce: string): Promise<{ ctx: PageContext; evidence?: EvidenceSectionView }> {
    if (view.kind !== 'form' || !view.evidence || !action.evidence || !deps.evidence) return { ctx };
    const { evidenceCase } = await deps.evidence.linkAccess(claims);
    const token = String(req.params.token);
    const files = (await deps.evidence.list(evidenceCase.id)).map((file) => toEvidenceDto(file, linkEvidenceUrls(token)));
    const withScript = { ...ctx, scriptNonce: randomBytes(16).toString('base64url') };
    return {
      ctx: withScript,
      evidence: evidenceSection({
        token,
        locale: ctx.lang,
        items: view.evidence.items,
        files,
        formNonce: `${nonce}.${macOf(claims, nonce)}`,
        scriptNonce: withScript.scriptNonce,
        styleNonce: ctx.styleNonce,
      }),
    };
  }

  async function viewPage(res: Response, req: Request, ctx: PageContext, claims: SignedLinkClaims, action: LinkAction, page: LinkPage, view: PageView) {
    if (view.kind === 'form') {
      const nonce = nonceCookie(req) ?? randomBytes(16).toString('base64url');
      setNonceCookie(req, res, ctx, nonce);
      const shown = await evidenceOf(req, ctx, claims, action, view, nonce);
      return renderForm(res, shown.ctx, { status: 200, claims, page, view, values: view.values ?? {}, errors: new Map(), nonce, evidence: shown.evidence });
    }
    if (view.kind === 'superseded') {
      return renderMessage(res, ctx, {
        status: 410,
        tone: 'warn',
        title: page.title,
        heading: strings.supersededHeading,
        paragraphs: [view.message],
        facts: view.facts,
        link: { href: view.newerUrl, label: strings.openNewer },
      });
    }
    return renderMessage(res, ctx, { status: 409, tone: 'warn', title: page.title, heading: strings.closedHeading, paragraphs: [view.message], facts: view.facts });
  }

  router.get('/links/:token', (req: Request, res: Response, next: NextFunction) => {
    res.vary('Accept');
    if (!wantsHtml(req)) return next();
    void (async () => {
      let ctx = contextFor(req, languageOf(req, req.query.lang));
      let page: LinkPage | undefined;
      try {
        const resolved = resolve(req);
        if (!resolved.page) return next();
        page = resolved.page;
        if (resolved.claims.singleUse && (await deps.linkService.isUsed(resolved.claims))) throw new ApiError(410, 'link_used', 'This link has already been used');
        const view = await page.describe(resolved.claims);
        ctx = { ...ctx, lang: languageOf(req, req.query.lang, view) };
        await viewPage(res, req, ctx, resolved.claims, resolved.action, page, view);
      } catch (error) {
        renderProblem(req, res, ctx, error, page);
      }
    })().catch(next);
  });

  router.post('/links/:token', (req: Request, res: Response, next: NextFunction) => {
    if (!isForm(req)) return next();
    void (async () => {
      let ctx = contextFor(req, languageOf(req, req.query.lang));
      let page: LinkPage | undefined;
      try {
        // The link is checked before the body is read, as for the JSON API.
        const { claims, action, page: linkPage } = resolve(req);
        if (!linkPage) return next();
        page = linkPage;
        await new Promise<void>((resolveBody, reject) => readForm(req, res, (error?: unknown) => (error === undefined || error === null ? resolveBody() : reject(error instanceof Error ? error : new Error('unreadable form')))));
        const form = (req.body ?? {}) as Record<string, unknown>;
        ctx = { ...ctx, lang: languageOf(req, form[LANG_FIELD] ?? req.query.lang) };
        if (!formIsGenuine(req, claims, form)) {
          return renderMessage(res, ctx, {
            status: 403,
            tone: 'error',
            title: page.title,
            heading: strings.refusedHeading,
            paragraphs: [strings.refusedMessage],
            link: { href: `${ctx.path}?lang=${ctx.lang}`, label: strings.openAgain },
          });
        }
        const body = bodyFromForm(page.fields, form);
        /** Shows the form again (400) with what was typed and each refused field named; the link stays unused. */
        const formAgain = async (errors: Map<string, string>) => {
          if (claims.singleUse && (await deps.linkService.isUsed(claims))) throw new ApiError(410, 'link_used', 'This link has already been used');
          const view = await linkPage.describe(claims);
          if (view.kind !== 'form') return viewPage(res, req, ctx, claims, action, linkPage, view);
          const nonce = String(form[NONCE_FIELD]).split('.')[0] ?? '';
          const shown = await evidenceOf(req, ctx, claims, action, view, nonce);
          return renderForm(res, shown.ctx, { status: 400, claims, page: linkPage, view, values: body, errors, nonce, evidence: shown.evidence });
        };
        const parsed = action.body.safeParse(body);
        if (!parsed.success) return await formAgain(fieldErrors(page, parsed.error.issues, ctx.lang));
        let result: Record<string, unknown>;
        try {
          result = await deps.linkService.perform(claims, action, body);
        } catch (error) {
          // The action's own refusal of a field it shows (e.g. a serial not in the installed base): the form again, that field marked.
          const named = error instanceof ApiError && error.code === 'validation_failed' && Array.isArray(error.details) ? (error.details as FieldProblem[]) : [];
          if (named.length > 0 && named.every((problem) => linkPage.fields.some((field) => field.name === problem.field))) {
            return await formAgain(new Map(named.map((problem) => [problem.field, strings.fieldInvalid(problem.message)[ctx.lang]])));
          }
          throw error;
        }
        const done = page.done(result);
        renderMessage(res, ctx, { status: 200, tone: 'ok', title: page.title, heading: strings.doneHeading, paragraphs: [done.message], facts: done.facts });
      } catch (error) {
        renderProblem(req, res, ctx, error, page);
      }
    })().catch(next);
  });

  /*
   * The evidence widget's plain form (no JavaScript): a multipart POST from the page, checked like the
   * page's own form (nonce), stored all or nothing, then back to the page (303). A refused upload
   * shows a page naming each refused file. The widget's script posts with `Accept: application/json`
   * and is answered by the JSON API (api/evidence/routes.ts) instead.
   */
  const readEvidenceUpload = createMultipartReader(EVIDENCE_MULTIPART);
  router.post('/links/:token/evidence', (req: Request, res: Response, next: NextFunction) => {
    if (!wantsHtml(req) || !deps.evidence) return next();
    const evidence = deps.evidence;
    void (async () => {
      let ctx = contextFor(req, languageOf(req, req.query.lang));
      let page: LinkPage | undefined;
      try {
        // The link, and that it gives evidence access, are checked before the body is read.
        const { claims, page: linkPage } = resolve(req);
        page = linkPage;
        const { evidenceCase, uploader } = await evidence.linkAccess(claims);
        const upload = await readEvidenceUpload(req, res);
        ctx = { ...ctx, lang: languageOf(req, upload.fields[LANG_FIELD] ?? req.query.lang) };
        const back = { href: `${ctx.path}?lang=${ctx.lang}#evidence`, label: evidenceStrings.backToPage };
        if (!formIsGenuine(req, claims, upload.fields)) {
          return renderMessage(res, ctx, { status: 403, tone: 'error', title: page?.title ?? strings.refusedHeading, heading: strings.refusedHeading, paragraphs: [strings.refusedMessage], link: back });
        }
        const fields = evidenceUploadFieldsSchema.safeParse({ item: upload.fields.item });
        if (!fields.success) throw ApiError.validation([{ in: 'body', field: 'item', message: fields.error.issues[0]?.message ?? 'is not valid' }]);
        try {
          await evidence.upload({ evidenceCase, item: fields.data.item, files: upload.files, uploader });
        } catch (error) {
          if (!(error instanceof ApiError) || error.status >= 500 || error.code.startsWith('link_')) throw error;
          const lines = evidenceRefusalLines(error, ctx.lang);
          return renderMessage(res, ctx, {
            status: error.status,
            tone: 'error',
            title: page?.title ?? evidenceStrings.refusedHeading,
            heading: evidenceStrings.refusedHeading,
            paragraphs: [...lines.map((line) => ({ en: line, 'zh-CN': line })), evidenceStrings.nothingStored],
            link: back,
          });
        }
        res.redirect(303, back.href);
      } catch (error) {
        renderProblem(req, res, ctx, error, page);
      }
    })().catch(next);
  });

  return router;
}
