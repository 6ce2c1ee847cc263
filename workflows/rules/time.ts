// Instants and civil dates for rule code. Every calendar date is an Asia/Shanghai date: UTC+8 all
// year (China has had no daylight saving since 1991), so the offset arithmetic below is exact and
// needs no time-zone database. Nothing here reads the clock.

/** 'YYYY-MM-DD', a civil date in Asia/Shanghai. */
export type IsoDate = string;
/** An ISO 8601 instant with an explicit offset or Z, e.g. '2026-10-22T23:59:59+08:00'. */
export type IsoInstant = string;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;

const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function dayNumberFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function digitAt(text: string, index: number): number {
  const code = text.charCodeAt(index) - 48;
  return code >= 0 && code <= 9 ? code : NaN;
}

/** Parses 'YYYY-MM-DD' strictly (a real calendar date) into a day number, or returns NaN. */
export function tryDayNumber(date: string): number {
  if (typeof date !== 'string' || date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) return NaN;
  const year = digitAt(date, 0) * 1000 + digitAt(date, 1) * 100 + digitAt(date, 2) * 10 + digitAt(date, 3);
  const month = digitAt(date, 5) * 10 + digitAt(date, 6);
  const day = digitAt(date, 8) * 10 + digitAt(date, 9);
  // NaN fails every comparison below, so a non-digit anywhere rejects the date.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && year >= 0)) return NaN;
  return dayNumberFromCivil(year, month, day);
}

export function isIsoDate(value: unknown): value is IsoDate {
  return typeof value === 'string' && !Number.isNaN(tryDayNumber(value));
}

export function dayNumber(date: IsoDate): number {
  const result = tryDayNumber(date);
  if (Number.isNaN(result)) throw new RangeError(`not a calendar date in YYYY-MM-DD form: ${String(date)}`);
  return result;
}

/** [year, month, day] of a day number (H. Hinnant's civil_from_days). */
export function civilFromDayNumber(dayNum: number): [number, number, number] {
  const z = dayNum + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

export function isoDateFromDayNumber(dayNum: number): IsoDate {
  const [year, month, day] = civilFromDayNumber(dayNum);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

export function yearOfDayNumber(dayNum: number): number {
  return civilFromDayNumber(dayNum)[0];
}

/** 0 = Sunday .. 6 = Saturday. */
export function weekdayOfDayNumber(dayNum: number): number {
  return (((dayNum + 4) % 7) + 7) % 7;
}

export function addCalendarDays(date: IsoDate, days: number): IsoDate {
  return isoDateFromDayNumber(dayNumber(date) + days);
}

/**
 * Epoch milliseconds of an ISO 8601 instant. The offset is required: a local time without one
 * would be read in the host's time zone, which workflow code must never depend on.
 */
export function parseInstant(instant: IsoInstant): number {
  if (typeof instant !== 'string' || !INSTANT_PATTERN.test(instant)) {
    throw new RangeError(`not an ISO 8601 instant with an offset (e.g. 2026-10-22T09:30:00+08:00): ${String(instant)}`);
  }
  const ms = Date.parse(instant);
  if (Number.isNaN(ms) || Number.isNaN(tryDayNumber(instant.slice(0, 10)))) {
    throw new RangeError(`not a valid instant: ${instant}`);
  }
  return ms;
}

export function isIsoInstant(value: unknown): value is IsoInstant {
  return typeof value === 'string' && INSTANT_PATTERN.test(value) && !Number.isNaN(Date.parse(value)) && !Number.isNaN(tryDayNumber(value.slice(0, 10)));
}

/** The Asia/Shanghai wall-clock form of an instant: 'YYYY-MM-DDTHH:mm:ss+08:00' (milliseconds kept when not zero). */
export function formatShanghai(ms: number): IsoInstant {
  const local = ms + SHANGHAI_OFFSET_MS;
  const dayNum = Math.floor(local / DAY_MS);
  let rest = local - dayNum * DAY_MS;
  const hours = Math.floor(rest / HOUR_MS);
  rest -= hours * HOUR_MS;
  const minutes = Math.floor(rest / MINUTE_MS);
  rest -= minutes * MINUTE_MS;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0')}`;
  return `${isoDateFromDayNumber(dayNum)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}${fraction}+08:00`;
}

/** The Asia/Shanghai day number an instant falls on. */
export function shanghaiDayNumber(ms: number): number {
  return Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS);
}

export function shanghaiDate(ms: number): IsoDate {
  return isoDateFromDayNumber(shanghaiDayNumber(ms));
}

/** Epoch milliseconds of a wall-clock moment in Asia/Shanghai, given as a day number plus milliseconds into that day. */
export function shanghaiInstantMs(dayNum: number, msIntoDay: number): number {
  return dayNum * DAY_MS + msIntoDay - SHANGHAI_OFFSET_MS;
}

/** The last second of a Shanghai day, the instant every date-based deadline ends on. */
export function endOfShanghaiDayMs(dayNum: number): number {
  return shanghaiInstantMs(dayNum, DAY_MS - 1000);
}
