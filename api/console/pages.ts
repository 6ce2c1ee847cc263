import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { diffWords } from 'diff';
import { z } from 'zod';
import { DOCUMENT_CONTENT } from '../sign-off/content';
import type { DocumentKind } from '../../workflows/sign-off/definitions';
import type { RouteEntry } from '../route';
import type { ConsoleApi } from './api-client';
import { fieldsForSchema, formFieldsOf, type FormField } from './forms';
import type { ConsoleText } from './i18n';
import type { ConsoleRenderer } from './render';
import { actionsOf, fillPath, pageRouteFor, registrationsFor, relatedPagesOf, roleMay } from './route-map';
import { CASE_NUMBER, chinaTime, isPlainObject, timeView, valueView, type ValueContext, type ValueView } from './values';

/** One form of a page: an API route the signed-in role may call, drawn from its schema. */
export interface ActionView {
  id: string;
  title: string;
  method: string;
  /** The API path, with this page's parameters filled in (others stay `:name`, filled from `_path.` fields). */
  path: string;
  idempotent: boolean;
  multipart?: string;
  pathFields: FormField[];
  fields: FormField[];
  submitLabel: string;
  open: boolean;
  /** Where to go after success: `case` opens the case the answer names; `show` shows the answer (a computation); otherwise the page reloads. */
  after?: 'case' | 'show';
}

export interface ConsolePageContext {
  req: Request;
  res: Response;
  api: ConsoleApi;
  text: ConsoleText;
  table: readonly RouteEntry[];
  render: ConsoleRenderer;
  now: Date;
}

const IDENTIFIER_KEYS = ['caseNumber', 'loanNumber', 'claimNumber', 'number', 'id'] as const;
const HEADLINE_KEYS = ['status', 'waitingFor', 'level', 'severity'] as const;
const SECTION_KEYS = new Set(['timeline', 'versions']);
/** Internal references a person has no use for on the page. */
const HIDDEN_KEYS = new Set(['workflowId', 'caseId']);

export function valueContext(ctx: Pick<ConsolePageContext, 'now' | 'text'>): ValueContext {
  return {
    now: ctx.now,
    text: ctx.text,
    linkFor(key, value, parent) {
      if (CASE_NUMBER.test(value)) return `/console/cases/${encodeURIComponent(value)}`;
      if (key === 'href' && value.startsWith('/')) return `/console${value}`;
      if (key === 'documentId' || (key === 'id' && parent && 'currentVersion' in parent)) return `/console/documents/${encodeURIComponent(value)}`;
      if (key === 'id' && parent && 'sha256' in parent) return `/evidence/${encodeURIComponent(value)}`;
      return undefined;
    },
  };
}

function actionView(entry: RouteEntry, params: Record<string, string>, prefill: Record<string, unknown>, text: ConsoleText, options: { open?: boolean; after?: 'case' | 'show' } = {}): ActionView {
  const missing = [...entry.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!).filter((name) => params[name] === undefined);
  const fields = formFieldsOf(entry.spec.body, prefill, text);
  if (entry.spec.multipart) {
    fields.unshift({ kind: 'file', name: entry.spec.multipart.fileField, label: text.field(entry.spec.multipart.fileField), required: true, hint: entry.spec.multipart.fileDescription });
  }
  return {
    id: `${entry.method}-${entry.path}`.replace(/[^A-Za-z0-9]+/g, '-'),
    title: entry.spec.summary,
    method: entry.method.toUpperCase(),
    path: fillPath(entry.path, params),
    idempotent: entry.method === 'post' && !entry.spec.readOnly,
    multipart: entry.spec.multipart?.fileField,
    pathFields: missing.map((name) => ({ kind: 'text', name: `_path.${name}`, label: `${text.field(name)} (${text.ui.pathParameter})`, required: true })),
    fields,
    submitLabel: text.ui.submit,
    open: options.open ?? false,
    after: entry.spec.readOnly ? 'show' : options.after,
  };
}

/** What a form starts with on a detail page: the version in review, and a document's latest content to revise. */
function prefillFrom(data: Record<string, unknown>): Record<string, unknown> {
  const versions = Array.isArray(data.versions) ? (data.versions as { content?: unknown }[]) : [];
  return {
    ...(typeof data.currentVersion === 'number' && data.currentVersion > 0 ? { version: data.currentVersion } : {}),
    ...(versions.length > 0 ? { content: versions.at(-1)!.content } : {}),
  };
}

const contentText = (content: unknown): string =>
  Object.entries((content ?? {}) as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}`)
    .join('\n');

function versionsView(data: Record<string, unknown>, ctx: ConsolePageContext) {
  if (!Array.isArray(data.versions) || data.versions.length === 0) return undefined;
  const versions = data.versions as { version: number; content: unknown; reason: string | null; submittedBy: string; at: string; decisions: unknown[] }[];
  const values = valueContext(ctx);
  const newest = [...versions].sort((a, b) => b.version - a.version);
  const [latest, previous] = newest;
  const diff = latest && previous ? diffWords(contentText(previous.content), contentText(latest.content)) : undefined;
  return {
    diff: diff && latest && previous ? { title: ctx.text.ui.changes(previous.version, latest.version), from: previous.version, to: latest.version, left: diff, right: diff } : undefined,
    items: newest.map((version) => ({
      version: version.version,
      by: version.submittedBy,
      at: version.at,
      atText: chinaTime(version.at),
      reason: version.reason,
      text: contentText(version.content),
      decisions: valueView(version.decisions, 'decisions', values),
    })),
  };
}

function documentContentField(data: Record<string, unknown>, text: ConsoleText, action: ActionView): ActionView {
  // A first version has nothing to prefill from: its fields come from the document kind's content schema.
  const kind = data.kind as DocumentKind | undefined;
  const hasVersions = Array.isArray(data.versions) && data.versions.length > 0;
  if (hasVersions || !kind || !DOCUMENT_CONTENT[kind]) return action;
  return { ...action, fields: action.fields.map((field) => (field.name === 'content' ? { ...fieldsForSchema('content', 'content', DOCUMENT_CONTENT[kind], undefined, text), label: field.label } : field)) };
}

/** Query values the API would refuse as empty are left out: an empty filter means no filter. */
export function apiQueryOf(query: Request['query']): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string' && item !== '') search.append(name, item);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function errorMessageOf(body: unknown): string {
  const error = (body as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === 'string' ? error.message : 'Error';
}

/** A page of the console for an API GET route: a list (filters, rows, pages) or one thing (details, versions, evidence, emails, actions). */
export async function resourcePage(ctx: ConsolePageContext, apiPath: string): Promise<void> {
  const { req, res, text } = ctx;
  const role = req.consoleSession!.actor.role;
  const match = pageRouteFor(ctx.table, apiPath);
  if (!match || match.entry.access === 'public') return ctx.render.message(req, res, 404, 'notFound', { href: '/console', label: 'myWork' });
  if (!roleMay(match.entry, role)) return ctx.render.message(req, res, 403, 'forbidden', { href: '/console', label: 'myWork' });
  const answer = await ctx.api.get(apiPath + apiQueryOf(req.query));
  const values = valueContext(ctx);
  const page = match.entry;
  const list = answer.status === 200 && isPage(answer.body) ? answer.body : undefined;

  if (answer.status === 404) return ctx.render.message(req, res, 404, 'notFound', { href: '/console', label: 'myWork' });
  if (answer.status === 403) return ctx.render.message(req, res, 403, 'forbidden', { href: '/console', label: 'myWork' });

  const actions = actionsOf(ctx.table, page, role).map((entry) =>
    actionView(entry, match.params, answer.status === 200 && !list ? prefillFrom(answer.body as Record<string, unknown>) : {}, text, { after: entry.path === page.path ? 'case' : undefined }),
  );

  if (answer.status !== 200 || list || !isPlainObject(answer.body)) {
    const filters = page.spec.query ? formFieldsOf(omitPaging(page.spec.query), stringQuery(req.query), text).filter((field) => field.kind !== 'group') : [];
    return ctx.render.page(req, res, answer.status === 200 ? 200 : answer.status, 'resource', {
      title: page.spec.summary,
      subtitle: undefined,
      headline: [],
      error: answer.status === 200 ? undefined : errorMessageOf(answer.body),
      list: list ? { ...listView(list, ctx, apiPath, req.query), filters } : { filters, rows: [], columns: [], total: 0 },
      actions,
    }, { title: page.spec.summary, live: list ? apiPath + apiQueryOf(req.query) : undefined });
  }

  const data = answer.body;
  const identifier = IDENTIFIER_KEYS.map((key) => data[key]).find((value): value is string => typeof value === 'string');
  const ownTitle = typeof data.title === 'string' ? data.title : typeof data.name === 'string' ? data.name : undefined;
  // A case number belongs in the title; a record's uuid does not when it has a name.
  const shownIdentifier = ownTitle && identifier === data.id ? undefined : identifier;
  const title = (ownTitle && shownIdentifier && ownTitle.includes(shownIdentifier) ? ownTitle : [ownTitle, shownIdentifier].filter(Boolean).join(' · ')) || page.spec.summary;
  const headline = HEADLINE_KEYS.filter((key) => data[key] !== undefined).map((key) => ({ label: text.field(key), value: valueView(data[key], 'status', values) }));
  const detailEntries = Object.fromEntries(Object.entries(data).filter(([key]) => !SECTION_KEYS.has(key) && !HIDDEN_KEYS.has(key) && !(HEADLINE_KEYS as readonly string[]).includes(key)));
  const caseNumber = typeof data.caseNumber === 'string' ? data.caseNumber : typeof data.loanNumber === 'string' ? data.loanNumber : typeof data.claimNumber === 'string' ? data.claimNumber : undefined;

  const [evidence, emails] = await Promise.all([caseNumber ? evidenceOf(ctx, caseNumber) : undefined, caseNumber ? emailsOf(ctx, caseNumber, values) : undefined]);
  // A document of the case waiting for a decision (a plan, a report) is decided from the case page too.
  const decide = ctx.table.find((entry) => entry.method === 'post' && entry.path === '/documents/:documentId/decisions');
  if (decide && roleMay(decide, role)) {
    for (const [key, value] of Object.entries(data)) {
      if (!isPlainObject(value) || typeof value.id !== 'string' || typeof value.currentVersion !== 'number' || typeof value.waitingFor !== 'string' || value.waitingFor === 'customer_signature') continue;
      const action = actionView(decide, { documentId: value.id }, { version: value.currentVersion }, text);
      actions.unshift({ ...action, id: `${action.id}-${key}`, title: `${text.field(key)} v${value.currentVersion} · ${text.value(value.waitingFor)}: ${decide.spec.summary}` });
    }
  }
  const upload = ctx.table.find((entry) => entry.method === 'post' && entry.path === '/cases/:caseNumber/evidence');
  if (caseNumber && upload && roleMay(upload, role)) actions.push(actionView(upload, { caseNumber }, {}, text));

  ctx.render.page(req, res, 200, 'resource', {
    title,
    subtitle: page.spec.summary,
    headline,
    details: valueView(Object.fromEntries(Object.entries(detailEntries).filter(([, value]) => !isComplex(value))), '', values),
    sections: Object.entries(detailEntries)
      .filter(([, value]) => isComplex(value))
      .map(([key, value]) => ({ id: `section-${key}`, title: text.field(key), value: valueView(value, key, values) })),
    timeline: Array.isArray(data.timeline) ? valueView(data.timeline, 'timeline', values) : undefined,
    versions: versionsView(data, ctx),
    evidence,
    emails,
    actions: actions.map((action) => (action.path.endsWith('/versions') ? documentContentField(data, text, action) : action)),
    list: undefined,
    related: relatedPagesOf(ctx.table, page, match.params, role).map(({ entry, path }) => ({ href: `/console${path}`, title: entry.spec.summary })),
  }, { title, live: apiPath });
}

/** A part of a read model that gets a section of its own: a non-empty list of records, or a record with something in it. */
const isComplex = (value: unknown): boolean =>
  (Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) || (isPlainObject(value) && Object.values(value).some((inner) => inner !== null && inner !== undefined && inner !== ''));

export type Page = { items: unknown[]; total: number; limit: number; offset: number };
const isPage = (value: unknown): value is Page => isPlainObject(value) && Array.isArray(value.items) && typeof value.total === 'number';

function omitPaging(query: z.ZodType): z.ZodType {
  return query instanceof z.ZodObject ? query.omit({ limit: true, offset: true } as never) : query;
}

const stringQuery = (query: Request['query']) => Object.fromEntries(Object.entries(query).filter(([, value]) => typeof value === 'string' && value !== ''));

/** Internal references a list has no room for: ids (the name beside them says it) and workflow ids. */
const listHidden = (key: string) => HIDDEN_KEYS.has(key) || key === 'href' || (key !== 'id' && /Id$/.test(key));

export function listView(page: Page, ctx: ConsolePageContext, apiPath: string, query: Request['query']) {
  const values = valueContext(ctx);
  const items = page.items.filter(isPlainObject);
  const keys = [...new Set(items.flatMap((item) => Object.keys(item)))].filter((key) => !listHidden(key) && items.some((item) => item[key] === null || ['string', 'number', 'boolean'].includes(typeof item[key])));
  const identifierKey = IDENTIFIER_KEYS.find((key) => keys.includes(key));
  // The identifier, then what a board is read by (status, level, severity), then the rest in the API's order.
  const headline = (HEADLINE_KEYS as readonly string[]).filter((key) => keys.includes(key) && key !== identifierKey);
  const columns = [...(identifierKey ? [identifierKey] : []), ...headline, ...keys.filter((key) => key !== identifierKey && !headline.includes(key))].slice(0, 8);
  const pageLink = (offset: number) => `/console${apiPath}${apiQueryOf({ ...query, offset: String(offset), limit: String(page.limit) })}`;
  return {
    total: page.total,
    columns: columns.map((key) => ({ key, label: ctx.text.field(key) })),
    rows: items.map((item) => {
      const id = identifierKey ? item[identifierKey] : undefined;
      const ownPage = typeof id === 'string' && pageRouteFor(ctx.table, `${apiPath}/${encodeURIComponent(id)}`) ? `/console${apiPath}/${encodeURIComponent(id)}` : undefined;
      const href = typeof item.href === 'string' ? `/console${item.href}` : ownPage;
      return { href, cells: columns.map((key) => (key === identifierKey ? { kind: 'text', text: String(item[key]) } : valueView(item[key], key, values, 1, item))) };
    }),
    previous: page.offset > 0 ? pageLink(Math.max(0, page.offset - page.limit)) : undefined,
    next: page.offset + page.limit < page.total ? pageLink(page.offset + page.limit) : undefined,
  };
}

async function evidenceOf(ctx: ConsolePageContext, caseNumber: string) {
  const route = ctx.table.find((entry) => entry.method === 'get' && entry.path === '/cases/:caseNumber/evidence');
  if (!route || !roleMay(route, ctx.req.consoleSession!.actor.role)) return undefined;
  const answer = await ctx.api.get(`/cases/${encodeURIComponent(caseNumber)}/evidence`);
  if (answer.status !== 200) return undefined;
  const items = (isPlainObject(answer.body) && Array.isArray(answer.body.items) ? answer.body.items : Array.isArray(answer.body) ? answer.body : []) as { fileName: string; url: string; thumbnailUrl: string | null; sniffedType: string }[];
  return items.map((item) => ({ name: item.fileName, href: item.url, thumbnail: item.thumbnailUrl, type: item.sniffedType }));
}

async function emailsOf(ctx: ConsolePageContext, caseNumber: string, values: ValueContext): Promise<ValueView | undefined> {
  const answer = await ctx.api.get(`/cases/${encodeURIComponent(caseNumber)}/emails`);
  if (answer.status !== 200 || !isPlainObject(answer.body) || !Array.isArray(answer.body.items)) return undefined;
  return valueView(answer.body.items.map((item) => {
    const { template: _template, locale: _locale, ...shown } = item as Record<string, unknown>;
    return shown;
  }), 'emails', values);
}

/** My work: what waits for the signed-in user, deadlines first, with the time left. */
export async function myWorkPage(ctx: ConsolePageContext): Promise<void> {
  const answer = await ctx.api.get('/me/tasks');
  const body = answer.body as { items?: { kind: string; caseNumber: string; title: string; waitingSince: string; dueAt: string | null; href: string }[] } | null;
  const tasks = (body?.items ?? []).map((task) => ({
    kind: task.kind,
    title: task.title,
    href: `/console${task.href}`,
    caseNumber: task.caseNumber,
    caseHref: `/console/cases/${encodeURIComponent(task.caseNumber)}`,
    due: task.dueAt ? timeView(task.dueAt, ctx.now, ctx.text, true) : undefined,
    since: timeView(task.waitingSince, ctx.now, ctx.text, false),
  }));
  ctx.render.page(ctx.req, ctx.res, 200, 'my-work', { tasks }, { title: ctx.text.ui.myWork, live: '/me/tasks' });
}

/** Register: every registration form the role may use. */
export function registrationsPage(ctx: ConsolePageContext): void {
  const registrations = registrationsFor(ctx.table, ctx.req.consoleSession!.actor.role).map((entry) => ({
    href: `/console/new${entry.path}`,
    title: ctx.text.field(entry.path.slice(1)),
    summary: entry.spec.summary,
  }));
  ctx.render.page(ctx.req, ctx.res, 200, 'new', { registrations }, { title: ctx.text.ui.register });
}

export function registrationFormPage(ctx: ConsolePageContext, apiPath: string): void {
  const entry = registrationsFor(ctx.table, ctx.req.consoleSession!.actor.role).find((candidate) => candidate.path === apiPath);
  if (!entry) return ctx.render.message(ctx.req, ctx.res, 404, 'notFound', { href: '/console/new', label: 'register' });
  const action = actionView(entry, {}, {}, ctx.text, { open: true, after: 'case' });
  ctx.render.page(ctx.req, ctx.res, 200, 'form-page', { title: ctx.text.field(apiPath.slice(1)), summary: entry.spec.summary, action: { ...action, id: `new-${randomUUID().slice(0, 8)}` } }, { title: ctx.text.field(apiPath.slice(1)) });
}
