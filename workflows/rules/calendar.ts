// The Chinese business calendar: Monday-Friday, minus statutory holidays, plus the adjusted
// working weekends (调休) the State Council publishes once a year. Built once from data, then
// answered from precomputed arrays, so it is cheap enough to call in a tight loop and pure enough
// to call inside workflow code.

import {
  DAY_MS,
  type IsoDate,
  type IsoInstant,
  dayNumber,
  dayNumberFromCivil,
  isoDateFromDayNumber,
  shanghaiDayNumber,
  shanghaiInstantMs,
  tryDayNumber,
  weekdayOfDayNumber,
  yearOfDayNumber,
} from './time';

export type CalendarDayKind = 'holiday' | 'adjusted_working_day';

export interface CalendarDayEntry {
  date: IsoDate;
  kind: CalendarDayKind;
  /** e.g. '国庆节' or '补国庆节'; informative only. */
  name?: string | undefined;
}

export interface BusinessCalendarData {
  /** Years whose official schedule is known. Dates in any other year follow the plain Monday-Friday rule and make results provisional. */
  publishedYears: readonly number[];
  days: readonly CalendarDayEntry[];
}

export interface WorkingDayDeadline {
  due: IsoDate;
  /** 23:59:59 Asia/Shanghai on the due date. */
  dueAt: IsoInstant;
  /** True when the count ran through a year with no published schedule. */
  provisional: boolean;
  missingYears: number[];
}

export interface WorkingDayCount {
  count: number;
  provisional: boolean;
  missingYears: number[];
}

/** The span of dates the calendar answers for; outside it every call throws a RangeError. */
export const CALENDAR_FIRST_YEAR = 2000;
export const CALENDAR_LAST_YEAR = 2099;

export class CalendarDataError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid calendar data: ${problems.join('; ')}`);
    this.name = 'CalendarDataError';
  }
}

export interface CalendarDataProblem {
  /** Position of the offending entry in the list given, or null for the year itself. */
  index: number | null;
  message: string;
}

/** Every reason a year's schedule cannot be accepted (empty when it can). */
export function validateCalendarYear(year: number, days: readonly CalendarDayEntry[]): CalendarDataProblem[] {
  const problems: CalendarDataProblem[] = [];
  if (!Number.isInteger(year) || year < CALENDAR_FIRST_YEAR || year > CALENDAR_LAST_YEAR) {
    problems.push({ index: null, message: `year ${year} is outside ${CALENDAR_FIRST_YEAR}-${CALENDAR_LAST_YEAR}` });
    return problems;
  }
  const seen = new Set<string>();
  days.forEach((entry, index) => {
    const problem = (message: string) => problems.push({ index, message });
    const dayNum = tryDayNumber(entry.date);
    if (Number.isNaN(dayNum)) {
      problem(`${String(entry.date)} is not a calendar date (YYYY-MM-DD)`);
      return;
    }
    if (yearOfDayNumber(dayNum) !== year) problem(`${entry.date} is not in ${year}`);
    if (seen.has(entry.date)) problem(`${entry.date} appears more than once`);
    seen.add(entry.date);
    if (entry.kind !== 'holiday' && entry.kind !== 'adjusted_working_day') problem(`${entry.date} has unknown kind ${String(entry.kind)}`);
    const weekday = weekdayOfDayNumber(dayNum);
    if (entry.kind === 'adjusted_working_day' && weekday !== 0 && weekday !== 6) problem(`${entry.date} is a weekday and cannot be an adjusted working day`);
  });
  return problems;
}

/** The end-of-day instant suffix, concatenated rather than formatted: addWorkingDays is a hot path. */
const END_OF_DAY_SUFFIX = 'T23:59:59+08:00';

const NO_MISSING_YEARS: readonly number[] = Object.freeze([]);

export class BusinessCalendar {
  readonly publishedYears: readonly number[];
  private readonly firstDay = dayNumberFromCivil(CALENDAR_FIRST_YEAR, 1, 1);
  private readonly lastDay = dayNumberFromCivil(CALENDAR_LAST_YEAR, 12, 31);
  /** 1 when the day (offset from firstDay) is a working day. */
  private readonly working: Uint8Array;
  /** Working days in [firstDay, firstDay + offset], inclusive. */
  private readonly workingDaysThrough: Int32Array;
  /** Offsets of the working days, in order: the k-th working day is workingDayOffsets[k]. */
  private readonly workingDayOffsets: Int32Array;
  private readonly yearOfOffset: Uint16Array;
  /** 'YYYY-MM-DD' of each offset, so a result needs no formatting. */
  private readonly isoDateOfOffset: string[];
  /** Unpublished years before CALENDAR_FIRST_YEAR + index. */
  private readonly unpublishedYearsBefore: Int32Array;

  constructor(data: BusinessCalendarData) {
    const problems: string[] = [];
    const published = new Set(data.publishedYears);
    const daysByYear = new Map<number, CalendarDayEntry[]>();
    for (const entry of data.days) {
      const dayNum = tryDayNumber(entry.date);
      const year = Number.isNaN(dayNum) ? NaN : yearOfDayNumber(dayNum);
      if (!Number.isNaN(year) && !published.has(year)) problems.push(`${entry.date} belongs to ${year}, which is not a published year`);
      const list = daysByYear.get(year) ?? [];
      list.push(entry);
      daysByYear.set(year, list);
    }
    const messages = (found: CalendarDataProblem[]) => found.map((problem) => problem.message);
    for (const year of published) problems.push(...messages(validateCalendarYear(year, daysByYear.get(year) ?? [])));
    for (const [year, list] of daysByYear) {
      if (Number.isNaN(year)) problems.push(...messages(validateCalendarYear(CALENDAR_FIRST_YEAR, list)));
    }
    if (problems.length > 0) throw new CalendarDataError(problems);

    this.publishedYears = Object.freeze([...published].sort((a, b) => a - b));

    const length = this.lastDay - this.firstDay + 1;
    this.isoDateOfOffset = new Array<string>(length);
    this.working = new Uint8Array(length);
    this.yearOfOffset = new Uint16Array(length);
    let year = CALENDAR_FIRST_YEAR;
    let nextYearStart = dayNumberFromCivil(year + 1, 1, 1) - this.firstDay;
    for (let offset = 0; offset < length; offset++) {
      if (offset === nextYearStart) {
        year++;
        nextYearStart = dayNumberFromCivil(year + 1, 1, 1) - this.firstDay;
      }
      this.yearOfOffset[offset] = year;
      this.isoDateOfOffset[offset] = isoDateFromDayNumber(this.firstDay + offset);
      const weekday = weekdayOfDayNumber(this.firstDay + offset);
      this.working[offset] = weekday === 0 || weekday === 6 ? 0 : 1;
    }
    for (const entry of data.days) {
      this.working[dayNumber(entry.date) - this.firstDay] = entry.kind === 'adjusted_working_day' ? 1 : 0;
    }

    this.workingDaysThrough = new Int32Array(length);
    let total = 0;
    for (let offset = 0; offset < length; offset++) {
      total += this.working[offset]!;
      this.workingDaysThrough[offset] = total;
    }
    this.workingDayOffsets = new Int32Array(total);
    for (let offset = 0, k = 0; offset < length; offset++) {
      if (this.working[offset] === 1) this.workingDayOffsets[k++] = offset;
    }

    const yearCount = CALENDAR_LAST_YEAR - CALENDAR_FIRST_YEAR + 1;
    this.unpublishedYearsBefore = new Int32Array(yearCount + 1);
    for (let index = 0; index < yearCount; index++) {
      this.unpublishedYearsBefore[index + 1] = this.unpublishedYearsBefore[index]! + (published.has(CALENDAR_FIRST_YEAR + index) ? 0 : 1);
    }
  }

  isPublishedYear(year: number): boolean {
    return this.publishedYears.includes(year);
  }

  isWorkingDay(date: IsoDate): boolean {
    return this.working[this.offsetOf(dayNumber(date))] === 1;
  }

  isWorkingDayNumber(dayNum: number): boolean {
    return this.working[this.offsetOf(dayNum)] === 1;
  }

  /**
   * "n working days after `from`": counting starts the day after `from`; the deadline is the end
   * (23:59:59 Asia/Shanghai) of the n-th working day. n = 0 means `from` itself.
   */
  addWorkingDays(from: IsoDate, n: number): WorkingDayDeadline {
    const fromDay = dayNumber(from);
    const dueDay = this.nthWorkingDayAfter(fromDay, n);
    const missingYears = n === 0 ? NO_MISSING_YEARS : this.missingYearsBetween(fromDay + 1, dueDay);
    const due = this.isoDateOfOffset[dueDay - this.firstDay]!;
    return {
      due,
      dueAt: `${due}${END_OF_DAY_SUFFIX}`,
      provisional: missingYears.length > 0,
      missingYears: missingYears.length > 0 ? [...missingYears] : [],
    };
  }

  /** The day number of the n-th working day strictly after `fromDay` (n = 0: fromDay itself). */
  nthWorkingDayAfter(fromDay: number, n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`the number of working days must be a whole number >= 0, got ${n}`);
    const offset = this.offsetOf(fromDay);
    if (n === 0) return fromDay;
    const target = this.workingDaysThrough[offset]! + n - 1;
    const dueOffset = this.workingDayOffsets[target];
    if (dueOffset === undefined) throw new RangeError(`the calendar ends in ${CALENDAR_LAST_YEAR}`);
    return this.firstDay + dueOffset;
  }

  /** The first working day on or after `dayNum`. */
  firstWorkingDayFrom(dayNum: number): number {
    return this.working[this.offsetOf(dayNum)] === 1 ? dayNum : this.nthWorkingDayAfter(dayNum, 1);
  }

  /** Working days d with from < d <= to (negative when to is before from). */
  countWorkingDays(from: IsoDate, to: IsoDate): WorkingDayCount {
    const fromDay = dayNumber(from);
    const toDay = dayNumber(to);
    const count = this.workingDaysThrough[this.offsetOf(toDay)]! - this.workingDaysThrough[this.offsetOf(fromDay)]!;
    const missingYears = fromDay === toDay ? [] : this.missingYearsBetween(Math.min(fromDay, toDay) + 1, Math.max(fromDay, toDay));
    return { count, provisional: missingYears.length > 0, missingYears: [...missingYears] };
  }

  /** Unpublished years touched by the days firstDay..lastDay (inclusive), ascending. */
  missingYearsBetween(firstDay: number, lastDay: number): readonly number[] {
    if (lastDay < firstDay) return NO_MISSING_YEARS;
    const firstYear = this.yearOfOffset[this.offsetOf(firstDay)]!;
    const lastYear = this.yearOfOffset[this.offsetOf(lastDay)]!;
    const before = this.unpublishedYearsBefore;
    if (before[lastYear - CALENDAR_FIRST_YEAR + 1]! - before[firstYear - CALENDAR_FIRST_YEAR]! === 0) return NO_MISSING_YEARS;
    const missing: number[] = [];
    for (let year = firstYear; year <= lastYear; year++) {
      if (!this.publishedYears.includes(year)) missing.push(year);
    }
    return missing;
  }

  /**
   * Adds `durationMs` of time that runs only inside a daily window [windowStartMs, windowEndMs)
   * (milliseconds into the Shanghai day) on working days, or on every day when `workingDaysOnly`
   * is false. A deadline landing exactly on a window's end stays there.
   */
  addWindowedTime(startMs: number, durationMs: number, window: ServiceWindow): number {
    let remaining = durationMs;
    let cursor = this.nextWindowInstant(startMs, window);
    for (;;) {
      const day = shanghaiDayNumber(cursor);
      const windowEnd = shanghaiInstantMs(day, window.endMs);
      if (cursor + remaining <= windowEnd) return cursor + remaining;
      remaining -= windowEnd - cursor;
      cursor = this.nextWindowInstant(shanghaiInstantMs(day + 1, 0), window);
    }
  }

  /** `instantMs` itself when inside the window, else the start of the next window. */
  nextWindowInstant(instantMs: number, window: ServiceWindow): number {
    let day = shanghaiDayNumber(instantMs);
    const intoDay = instantMs - shanghaiInstantMs(day, 0);
    const open = (candidate: number) => !window.workingDaysOnly || this.isWorkingDayNumber(candidate);
    if (open(day) && intoDay < window.endMs) return intoDay >= window.startMs ? instantMs : shanghaiInstantMs(day, window.startMs);
    day++;
    while (!open(day)) day = window.workingDaysOnly ? this.nthWorkingDayAfter(day - 1, 1) : day + 1;
    return shanghaiInstantMs(day, window.startMs);
  }

  private offsetOf(dayNum: number): number {
    if (!Number.isInteger(dayNum) || dayNum < this.firstDay || dayNum > this.lastDay) {
      throw new RangeError(`date ${Number.isFinite(dayNum) ? isoDateFromDayNumber(dayNum) : String(dayNum)} is outside the calendar (${CALENDAR_FIRST_YEAR}-${CALENDAR_LAST_YEAR})`);
    }
    return dayNum - this.firstDay;
  }
}

export interface ServiceWindow {
  /** Milliseconds into the Shanghai day the window opens. */
  startMs: number;
  /** Milliseconds into the Shanghai day the window closes (at most one day). */
  endMs: number;
  workingDaysOnly: boolean;
}

/** Working days, all day long: the clock of "within 1 working day" measured from an instant. */
export const WHOLE_WORKING_DAY_WINDOW: ServiceWindow = Object.freeze({ startMs: 0, endMs: DAY_MS, workingDaysOnly: true });

/**
 * "Within n working days" from an instant, as elapsed time: n x 24 hours counted only on working
 * days. From 14:00 on a Friday, 1 working day ends at 14:00 on the next working day; from any
 * moment of a non-working day, the clock starts at 00:00 of the next working day.
 */
export function addWorkingDayDuration(calendar: BusinessCalendar, startMs: number, workingDays: number): number {
  return calendar.addWindowedTime(startMs, workingDays * DAY_MS, WHOLE_WORKING_DAY_WINDOW);
}

export function createBusinessCalendar(data: BusinessCalendarData): BusinessCalendar {
  return new BusinessCalendar(data);
}
