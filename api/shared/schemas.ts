import { z } from 'zod';

/**
 * Request field schemas with the bounds PostgreSQL enforces, so that bad input is refused with a 400
 * naming the field before it reaches the database.
 */

/** The largest value of a PostgreSQL `integer` (int4) column. */
export const INT4_MAX = 2_147_483_647;

/** PostgreSQL text cannot hold U+0000; the pattern also shows in the OpenAPI document. */
// eslint-disable-next-line no-control-regex -- the NUL character is exactly what it refuses
const NO_NUL_CHARACTER = /^[^\u0000]*$/;

/**
 * A string field: trimmed (unless `trim: false`), `min`..`max` characters, no NUL character.
 * Every string a request carries goes through this (or a stricter format such as `z.uuid()`).
 */
export function textField(options: { max: number; min?: number; trim?: boolean }) {
  const base = options.trim === false ? z.string() : z.string().trim();
  const bounded = options.min === undefined ? base : base.min(options.min);
  return bounded.max(options.max).regex(NO_NUL_CHARACTER, 'must not contain a NUL character');
}

/** A required, trimmed, non-empty string of at most `max` characters without NUL characters. */
export const requiredText = (max: number) => textField({ min: 1, max });

/** An optional note: trimmed, at most `max` characters, null when absent. */
export const optionalNote = (max: number) => textField({ max }).nullable().default(null);

/** A whole number within `min`..`max`, refused with one message that states the range. */
export function boundedInteger(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** At most 15 digits: every such decimal is exact as a JavaScript number. */
const DECIMAL_DIGITS = /^-?\d{1,15}$/;

/**
 * A whole number in a query string or path: decimal digits only (no `0x10`, `1e3`, spaces or empty
 * string), then `min`..`max`. The document shows it as an integer with those bounds.
 */
export function decimalInteger(min: number, max: number) {
  return z.preprocess((value) => (typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value), boundedInteger(min, max));
}

/** PostgreSQL refuses time-zone displacements past ±15:59. */
const MAX_OFFSET_MINUTES = 15 * 60 + 59;

function offsetMinutes(instant: string): number {
  const match = /([+-])(\d{2}):?(\d{2})$/.exec(instant);
  if (!match) return 0; // 'Z'
  return Number(match[2]) * 60 + Number(match[3]);
}

/** A calendar date YYYY-MM-DD that PostgreSQL can store: years 0001-9999 (there is no year 0). */
export const isoDateField = () =>
  z.iso
    .date({ message: 'must be a date YYYY-MM-DD' })
    .refine((value) => !value.startsWith('0000'), 'must be in the years 0001-9999');

/**
 * An instant with an explicit offset (e.g. `2026-10-22T09:30:00+08:00`) that PostgreSQL and
 * JavaScript dates can both hold: offset within ±15:59, year 0001-9999.
 */
export const isoInstantField = () =>
  z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 instant with an offset, e.g. 2026-10-22T09:30:00+08:00', abort: true })
    .superRefine((value, ctx) => {
      if (offsetMinutes(value) > MAX_OFFSET_MINUTES) ctx.addIssue({ code: 'custom', message: 'has a time-zone offset past ±15:59' });
      else if (value.startsWith('0000') || Number.isNaN(Date.parse(value))) ctx.addIssue({ code: 'custom', message: 'must be in the years 0001-9999' });
    })
    .meta({ format: 'date-time', example: '2026-09-30T15:00:00+08:00' });

const CHINA_LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/**
 * An instant as a customer page's date-and-time picker sends it (`2026-10-22T09:30`, China time) or
 * as an ISO instant with an offset; answered as the ISO instant with +08:00 for the former.
 */
export const chinaTimeOrInstantField = () =>
  z
    .string()
    .transform((value) => (CHINA_LOCAL_DATE_TIME.test(value) ? `${value.length === 16 ? `${value}:00` : value}+08:00` : value))
    .pipe(isoInstantField());
