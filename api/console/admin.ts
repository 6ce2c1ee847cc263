import express from 'express';
import type { UserRole } from '../../db/schema';
import { dayNumber, dayNumberFromCivil, daysInMonth, isoDateFromDayNumber, shanghaiDate, weekdayOfDayNumber } from '../../workflows/rules/time';
import type { ConsolePageContext } from './pages';
import { registrationsFor, roleMay } from './route-map';
import { CSRF_FIELD, csrfTokenIsValid } from './sessions';
import { chinaTime } from './values';

/*
 * Admin pages of the console: a hub linking users and master data (their lists and forms are the
 * generic resource pages), and the business calendar by year with an edit that first shows what it
 * changes and which recorded deadlines it would not move. Everything is read and written through the
 * API as the signed-in user.
 */

/** The calendar's edit form is a few kB of text (one line per holiday or adjusted working day). */
export const calendarFormBody = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 10 });

const MASTER_DATA = ['/customers', '/contacts', '/sites', '/products', '/devices', '/contingency-plans', '/vendor-contacts'] as const;

export function adminPage(ctx: ConsolePageContext): void {
  const role = ctx.req.consoleSession!.actor.role;
  const lists = (paths: readonly string[]) =>
    paths.flatMap((path) => {
      const list = ctx.table.find((entry) => entry.method === 'get' && entry.path === path);
      if (!list || !roleMay(list, role)) return [];
      const create = registrationsFor(ctx.table, role).find((entry) => entry.path === path);
      return [{ href: `/console${path}`, label: ctx.text.field(path.slice(1)), summary: list.spec.summary, create: create ? `/console/new${path}` : undefined }];
    });
  ctx.render.page(ctx.req, ctx.res, 200, 'admin', {
    users: lists(['/users']),
    masterData: lists(MASTER_DATA),
    calendarHref: `/console/admin/calendar/${shanghaiDate(ctx.now.getTime()).slice(0, 4)}`,
  }, { title: ctx.text.ui.admin });
}

type DayKind = 'holiday' | 'adjusted_working_day';
interface DayEntry { date: string; kind: DayKind; name?: string }
interface CalendarForm { source: string; version: string; days: string }
interface Problem { field: string; message: string }

const KIND_WORDS: Record<string, DayKind> = { holiday: 'holiday', adjusted_working_day: 'adjusted_working_day', 休: 'holiday', 班: 'adjusted_working_day' };

/** `2027-01-01 holiday 元旦` per line: the days the PUT takes; the lines that are not are named by number. */
function parseDays(text: string, lineWord: (line: number) => string): { days: DayEntry[]; problems: Problem[] } {
  const days: DayEntry[] = [];
  const problems: Problem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const [date = '', kindWord = '', ...name] = line.split(/\s+/);
    const kind = KIND_WORDS[kindWord];
    if (!kind) problems.push({ field: 'days', message: `${lineWord(index + 1)}: "${line}" — YYYY-MM-DD holiday|adjusted_working_day [name]` });
    else days.push({ date, kind, ...(name.length > 0 ? { name: name.join(' ') } : {}) });
  });
  return { days, problems };
}

const daysText = (days: readonly { date: string; kind: string; name?: string | null }[]) => days.map((day) => [day.date, day.kind, day.name ?? ''].join(' ').trim()).join('\n');

function formOf(body: unknown): CalendarForm {
  const record = (body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' ? record[key] : '');
  return { source: text('source'), version: text('version'), days: text('days') };
}

/** The API's field problems, each beside its field: `days.3.date` is the 4th day entered. */
function problemsOf(body: unknown, days: readonly DayEntry[], lineWord: (line: number) => string): Problem[] {
  const error = (body as { error?: { message?: string; details?: unknown } } | null)?.error;
  if (!Array.isArray(error?.details)) return [{ field: 'form', message: error?.message ?? 'Error' }];
  return (error.details as { field?: string; message?: string }[]).map((detail) => {
    const match = /^days\.(\d+)/.exec(detail.field ?? '');
    if (match) return { field: 'days', message: `${days[Number(match[1])]?.date ?? lineWord(Number(match[1]) + 1)}: ${detail.message ?? ''}` };
    return { field: ['source', 'version'].includes(detail.field ?? '') ? detail.field! : 'form', message: detail.message ?? '' };
  });
}

function yearOf(ctx: ConsolePageContext): number | undefined {
  const year = Number(ctx.req.params.year);
  return /^\d{4}$/.test(String(ctx.req.params.year)) && year >= 2000 && year <= 2099 ? year : undefined;
}

function monthsOf(year: number, days: readonly DayEntry[], text: ConsolePageContext['text']) {
  const entries = new Map(days.map((day) => [day.date, day]));
  const weekdays = text.ui.weekdays;
  return Array.from({ length: 12 }, (_, monthIndex) => {
    const month = monthIndex + 1;
    const first = dayNumberFromCivil(year, month, 1);
    // Weeks start on Monday: 0 = Monday ... 6 = Sunday.
    const lead = (weekdayOfDayNumber(first) + 6) % 7;
    const cells: ({ day: number; date: string; kind: 'working' | 'weekend' | DayKind; label: string; name?: string } | null)[] = Array.from({ length: lead }, () => null);
    let working = 0;
    for (let day = 1; day <= daysInMonth(year, month); day++) {
      const date = isoDateFromDayNumber(first + day - 1);
      const entry = entries.get(date);
      const weekend = [0, 6].includes(weekdayOfDayNumber(first + day - 1));
      const kind = entry?.kind ?? (weekend ? 'weekend' : 'working');
      if (kind === 'working' || kind === 'adjusted_working_day') working++;
      cells.push({ day, date, kind, label: text.ui.dayKinds[kind], name: entry?.name });
    }
    while (cells.length % 7 !== 0) cells.push(null);
    const weeks = Array.from({ length: cells.length / 7 }, (_, week) => cells.slice(week * 7, week * 7 + 7));
    return { id: `m${month}`, name: text.ui.monthNames[monthIndex]!, working, weeks, weekdays };
  });
}

/** The calendar of one year (12 month grids), and for admins the edit form; `form` and `problems` when a submission comes back. */
export async function calendarPage(ctx: ConsolePageContext, given?: { form: CalendarForm; problems: Problem[]; status: number }): Promise<void> {
  const year = yearOf(ctx);
  if (!year) return ctx.render.message(ctx.req, ctx.res, 404, 'notFound', { href: '/console/admin', label: 'admin' });
  const [answer, years] = await Promise.all([ctx.api.get(`/calendar/years/${year}`), ctx.api.get('/calendar/years')]);
  if (answer.status !== 200 && answer.status !== 404) return ctx.render.message(ctx.req, ctx.res, answer.status === 403 ? 403 : 500, answer.status === 403 ? 'forbidden' : 'notFound');
  const record = answer.status === 200 ? (answer.body as { source: string; version: string; revision: number; loadedAt: string; loadedBy: string; holidays: number; adjustedWorkingDays: number; days: { date: string; kind: DayKind; name: string | null }[] }) : undefined;
  const days: DayEntry[] = (record?.days ?? []).map((day) => ({ date: day.date, kind: day.kind, ...(day.name ? { name: day.name } : {}) }));
  const role: UserRole = ctx.req.consoleSession!.actor.role;
  const put = ctx.table.find((entry) => entry.method === 'put' && entry.path === '/admin/calendar/:year');
  const published = ((years.body as { items?: { year: number }[] } | null)?.items ?? []).map((item) => item.year);
  const months = monthsOf(year, days, ctx.text);
  ctx.render.page(ctx.req, ctx.res, given?.status ?? 200, 'calendar', {
    year,
    provisional: !record,
    record: record ? { ...record, loadedAtText: chinaTime(record.loadedAt) } : undefined,
    months,
    workingDays: months.reduce((sum, month) => sum + month.working, 0),
    previous: year > 2000 ? `/console/admin/calendar/${year - 1}` : undefined,
    next: year < 2099 ? `/console/admin/calendar/${year + 1}` : undefined,
    published: published.map((item) => ({ year: item, href: `/console/admin/calendar/${item}`, current: item === year })),
    saved: ctx.req.query.saved === '1',
    edit: put && roleMay(put, role)
      ? { action: `/console/admin/calendar/${year}/preview`, form: given?.form ?? { source: record?.source ?? '', version: record?.version ?? '', days: daysText(days) }, problems: given?.problems ?? [] }
      : undefined,
  }, { title: ctx.text.ui.calendarTitle(year) });
}

function checkedForm(ctx: ConsolePageContext): CalendarForm | undefined {
  const session = ctx.req.consoleSession!;
  if (!csrfTokenIsValid(ctx.req, session, (ctx.req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD])) {
    ctx.render.message(ctx.req, ctx.res, 403, 'forbidden');
    return undefined;
  }
  return formOf(ctx.req.body);
}

/** The edit a calendar form posted, checked (CSRF, year, each line); undefined once the page has answered otherwise. */
async function submittedEdit(ctx: ConsolePageContext): Promise<{ year: number; form: CalendarForm; days: ReturnType<typeof parseDays>['days'] } | undefined> {
  const year = yearOf(ctx);
  const form = checkedForm(ctx);
  if (!form) return undefined;
  if (!year) {
    ctx.render.message(ctx.req, ctx.res, 404, 'notFound', { href: '/console/admin', label: 'admin' });
    return undefined;
  }
  const { days, problems } = parseDays(form.days, ctx.text.ui.line);
  if (problems.length > 0) {
    await calendarPage(ctx, { form, problems, status: 400 });
    return undefined;
  }
  return { year, form, days };
}

/** Step 1 of an edit: what the change would do (POST /admin/calendar/:year/preview), and a button to save it. */
export async function calendarPreviewPage(ctx: ConsolePageContext): Promise<void> {
  const edit = await submittedEdit(ctx);
  if (!edit) return;
  const { year, form, days } = edit;
  const answer = await ctx.api.send('POST', `/admin/calendar/${year}/preview`, { days });
  if (answer.status !== 200) return calendarPage(ctx, { form, problems: problemsOf(answer.body, days, ctx.text.ui.line), status: answer.status });
  const preview = answer.body as {
    provisional: boolean;
    changedDays: { date: string; before: DayKind | null; after: DayKind | null; nameBefore: string | null; nameAfter: string | null; workingBefore: boolean; workingAfter: boolean }[];
    deadlinesNotMoved: { caseNumber: string; caseKind: string; deadline: string; rule: { en: string; zh: string }; countedFrom: string; dueAt: string; changedDays: string[] }[];
    note: { en: string; zh: string };
  };
  const zh = ctx.text.locale === 'zh-CN';
  const kindLabel = (kind: DayKind | null, date: string) => ctx.text.ui.dayKinds[kind ?? ([0, 6].includes(weekdayOfDayNumber(dayNumber(date))) ? 'weekend' : 'working')];
  ctx.render.page(ctx.req, ctx.res, 200, 'calendar-preview', {
    year,
    provisional: preview.provisional,
    back: `/console/admin/calendar/${year}`,
    form,
    saveAction: `/console/admin/calendar/${year}/save`,
    changes: preview.changedDays.map((day) => ({
      date: day.date,
      before: [kindLabel(day.before, day.date), day.nameBefore].filter(Boolean).join(' · '),
      after: [kindLabel(day.after, day.date), day.nameAfter].filter(Boolean).join(' · '),
      flips: day.workingBefore !== day.workingAfter,
    })),
    deadlines: preview.deadlinesNotMoved.map((deadline) => ({
      caseNumber: deadline.caseNumber,
      caseHref: `/console/cases/${encodeURIComponent(deadline.caseNumber)}`,
      rule: zh ? deadline.rule.zh : deadline.rule.en,
      countedFrom: chinaTime(deadline.countedFrom),
      dueAt: chinaTime(deadline.dueAt),
      changedDays: deadline.changedDays.join(', '),
    })),
    note: zh ? preview.note.zh : preview.note.en,
  }, { title: ctx.text.ui.previewTitle(year) });
}

/** Step 2: the change saved through PUT /admin/calendar/:year; back to the year's page. */
export async function calendarSave(ctx: ConsolePageContext): Promise<void> {
  const edit = await submittedEdit(ctx);
  if (!edit) return;
  const { year, form, days } = edit;
  const answer = await ctx.api.send('PUT', `/admin/calendar/${year}`, { source: form.source, version: form.version, days });
  if (answer.status !== 200) return calendarPage(ctx, { form, problems: problemsOf(answer.body, days, ctx.text.ui.line), status: answer.status });
  ctx.res.redirect(303, `/console/admin/calendar/${year}?saved=1`);
}
