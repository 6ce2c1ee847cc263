// Rectification slots (P3 "per site"): when on-site work may happen at a customer. A slot must avoid
// the customer's recurring busy hours (weekday and minutes, China time) and its dated protected
// periods (holidays, "重要通信保障期间"), whole days China time. Pure: bundled into workflow code.
import { DAY_MS, MINUTE_MS, dayNumber, formatShanghai, isoDateFromDayNumber, shanghaiDayNumber, shanghaiInstantMs, weekdayOfDayNumber } from './time';

/** The customer master data a slot is checked against (the shape of CustomerCalendarRules in workflows/rectification/definitions.ts). */
export interface SlotCalendarRules {
  /** Recurring every week: weekday 1 (Monday) - 7 (Sunday), minutes after midnight China time, end exclusive. */
  busyHours: readonly { weekday: number; startMinute: number; endMinute: number }[];
  /** Whole days China time, both ends included. */
  protectedPeriods: readonly { startsOn: string; endsOn: string; reason: string }[];
}

export interface Slot {
  /** ISO instant the work starts. */
  startsAt: string;
  durationMinutes: number;
}

export type SlotConflict =
  | { kind: 'busy_hours'; weekday: number; startMinute: number; endMinute: number; on: string; endsAt: string }
  | { kind: 'protected_period'; startsOn: string; endsOn: string; reason: string; endsAt: string };

/** The longest slot a site may book (a day). */
export const MAX_SLOT_MINUTES = 24 * 60;
/** Slots proposed by the rule start on a quarter hour. */
export const SLOT_STEP_MINUTES = 15;
/** How far ahead the rule looks for an allowed slot before giving up. */
export const SLOT_SEARCH_DAYS = 730;

/** ISO weekday (1 Monday .. 7 Sunday) of a Shanghai day number. */
function isoWeekday(dayNum: number): number {
  const weekday = weekdayOfDayNumber(dayNum);
  return weekday === 0 ? 7 : weekday;
}

const minuteText = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** How a conflict is named to the person who proposed the slot. */
export function describeSlotConflict(conflict: SlotConflict): string {
  if (conflict.kind === 'busy_hours') {
    return `the customer's busy hours ${minuteText(conflict.startMinute)}-${minuteText(conflict.endMinute)} China time on ${conflict.on} (weekday ${conflict.weekday})`;
  }
  return `the customer's protected period ${conflict.startsOn} to ${conflict.endsOn} (${conflict.reason})`;
}

/**
 * The first of the customer's rules the slot [startsAt, startsAt + duration) falls in, or null when
 * it is allowed. A protected period is named before busy hours; among those, the earliest.
 */
export function slotConflict(rules: SlotCalendarRules, slot: Slot): SlotConflict | null {
  const startMs = Date.parse(slot.startsAt);
  const endMs = startMs + slot.durationMinutes * MINUTE_MS;
  const firstDay = shanghaiDayNumber(startMs);
  const lastDay = shanghaiDayNumber(endMs - 1);
  for (const period of [...rules.protectedPeriods].sort((a, b) => a.startsOn.localeCompare(b.startsOn))) {
    const periodStartMs = shanghaiInstantMs(dayNumber(period.startsOn), 0);
    const periodEndMs = shanghaiInstantMs(dayNumber(period.endsOn) + 1, 0);
    if (startMs < periodEndMs && endMs > periodStartMs) {
      return { kind: 'protected_period', startsOn: period.startsOn, endsOn: period.endsOn, reason: period.reason, endsAt: formatShanghai(periodEndMs) };
    }
  }
  for (let day = firstDay; day <= lastDay; day++) {
    const weekday = isoWeekday(day);
    const busy = rules.busyHours
      .filter((hours) => hours.weekday === weekday)
      .sort((a, b) => a.startMinute - b.startMinute)
      .find((hours) => startMs < shanghaiInstantMs(day, hours.endMinute * MINUTE_MS) && endMs > shanghaiInstantMs(day, hours.startMinute * MINUTE_MS));
    if (busy) {
      return { ...busy, kind: 'busy_hours', on: isoDateFromDayNumber(day), endsAt: formatShanghai(shanghaiInstantMs(day, busy.endMinute * MINUTE_MS)) };
    }
  }
  return null;
}

/**
 * The first allowed slot of `durationMinutes` starting at or after `earliestMs`: on a quarter hour, or
 * at the time of day `preferredMinute` (China time) when given (e.g. the night window the plan was
 * written for). A candidate in conflict moves past the end of what it falls in, since any earlier
 * start would fall in it too. Throws when none exists within SLOT_SEARCH_DAYS.
 */
export function firstAllowedSlot(rules: SlotCalendarRules, earliestMs: number, durationMinutes: number, preferredMinute?: number): Slot {
  const stepMs = SLOT_STEP_MINUTES * MINUTE_MS;
  const next = (ms: number): number => {
    if (preferredMinute === undefined) return Math.ceil(ms / stepMs) * stepMs;
    const day = shanghaiDayNumber(ms);
    const preferred = shanghaiInstantMs(day, preferredMinute * MINUTE_MS);
    return preferred >= ms ? preferred : shanghaiInstantMs(day + 1, preferredMinute * MINUTE_MS);
  };
  const limitMs = earliestMs + SLOT_SEARCH_DAYS * DAY_MS;
  for (let candidate = next(earliestMs); candidate <= limitMs; ) {
    const slot = { startsAt: formatShanghai(candidate), durationMinutes };
    const conflict = slotConflict(rules, slot);
    if (!conflict) return slot;
    candidate = next(Date.parse(conflict.endsAt));
  }
  throw new RangeError(`no allowed slot of ${durationMinutes} minutes within ${SLOT_SEARCH_DAYS} days after ${formatShanghai(earliestMs)}`);
}
