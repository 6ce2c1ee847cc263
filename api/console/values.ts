import type { ConsoleText } from './i18n';

/*
 * How the console shows an API answer it has no page of its own for: objects as labelled fields,
 * arrays of objects as tables, instants in China time with how long ago or how long left (a deadline
 * shows the time left, or by how much it is overdue), case numbers and documents as links.
 */

export type ValueView =
  | { kind: 'empty' }
  | { kind: 'text'; text: string; href?: string; tone?: 'ok' | 'warn' | 'bad' }
  | { kind: 'time'; text: string; iso: string; relative: string; tone?: 'ok' | 'warn' | 'bad' }
  | { kind: 'list'; items: ValueView[] }
  | { kind: 'fields'; entries: { key: string; label: string; value: ValueView }[] }
  | { kind: 'table'; columns: { key: string; label: string }[]; rows: ValueView[][] };

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** Case numbers of every process: FR-2026-000042, SP-…, INC-…, RC-…, DOA-…, GC-…, RMA-… */
export const CASE_NUMBER = /^[A-Z]{2,4}-\d{4}-\d{6}$/;
const DEADLINE_KEY = /(due|deadline|expires|until)(At)?$/i;
const SOON_MS = 4 * 3_600_000;
const MAX_TABLE_COLUMNS = 8;

/** `2026-12-02T02:00:00Z` -> `2026-12-02 10:00` (China time, UTC+8). */
export function chinaTime(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

export function timeView(iso: string, now: Date, text: ConsoleText, asDeadline: boolean): ValueView {
  const delta = Date.parse(iso) - now.getTime();
  const duration = text.duration(delta);
  if (asDeadline) {
    return {
      kind: 'time', iso, text: chinaTime(iso),
      relative: delta >= 0 ? text.ui.left(duration) : text.ui.overdueBy(duration),
      tone: delta < 0 ? 'bad' : delta < SOON_MS ? 'warn' : 'ok',
    };
  }
  return { kind: 'time', iso, text: chinaTime(iso), relative: delta >= 0 ? text.ui.inTime(duration) : text.ui.ago(duration) };
}

export interface ValueContext {
  now: Date;
  text: ConsoleText;
  /** The console page of a case number, a document id... (or undefined when there is none). */
  linkFor(key: string, value: string, parent: Record<string, unknown> | undefined): string | undefined;
}

const isEmpty = (value: unknown) => value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
export const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

export function valueView(value: unknown, key: string, ctx: ValueContext, depth = 0, parent?: Record<string, unknown>): ValueView {
  if (value === null || value === undefined || value === '') return { kind: 'empty' };
  if (typeof value === 'boolean') return { kind: 'text', text: value ? '✓' : '✗' };
  if (typeof value === 'number') return { kind: 'text', text: String(value) };
  if (typeof value === 'string') {
    if (ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value))) return timeView(value, ctx.now, ctx.text, DEADLINE_KEY.test(key));
    const href = ctx.linkFor(key, value, parent);
    const tone = key === 'status' || key === 'state' ? statusTone(value) : undefined;
    return { kind: 'text', text: key === 'status' || key === 'state' || key === 'kind' || key === 'role' ? ctx.text.value(value) : value, href, tone };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'empty' };
    if (value.every(isPlainObject) && depth < 4) {
      const keys = [...new Set(value.flatMap((row) => Object.keys(row)))].filter((column) => value.some((row) => isScalar(row[column]) || Array.isArray(row[column]) || isPlainObject(row[column])));
      const columns = keys.slice(0, MAX_TABLE_COLUMNS + 4).filter((column, index) => index < MAX_TABLE_COLUMNS || value.some((row) => isScalar(row[column])));
      return {
        kind: 'table',
        columns: columns.map((column) => ({ key: column, label: ctx.text.field(column) })),
        rows: value.map((row) => columns.map((column) => valueView(row[column], column, ctx, depth + 1, row))),
      };
    }
    return { kind: 'list', items: value.map((item) => valueView(item, key, ctx, depth + 1)) };
  }
  if (isPlainObject(value)) {
    // A rule given in both languages shows in the reader's.
    if (typeof value.en === 'string' && typeof value.zh === 'string' && Object.keys(value).length === 2) {
      return { kind: 'text', text: ctx.text.locale === 'zh-CN' ? value.zh : value.en };
    }
    // Empty fields say nothing yet (a report not written, a call not made): they are left out.
    return {
      kind: 'fields',
      entries: Object.entries(value).filter(([, entryValue]) => !isEmpty(entryValue)).map(([entryKey, entryValue]) => ({ key: entryKey, label: ctx.text.field(entryKey), value: valueView(entryValue, entryKey, ctx, depth + 1, value) })),
    };
  }
  return { kind: 'text', text: JSON.stringify(value) };
}

function statusTone(status: string): 'ok' | 'warn' | 'bad' | undefined {
  if (/overdue|breach|missed|rejected|failed|billed|escalat|lapsed|refused/.test(status)) return 'bad';
  if (/closed|done|signed|returned|approved|completed|resolved|met|accepted|archived|restored/.test(status)) return 'ok';
  if (/pending|waiting|awaiting|in_review|requested|open/.test(status)) return 'warn';
  return undefined;
}
