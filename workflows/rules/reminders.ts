// Whether a return reminder still tells the truth when it finally goes out.
import { dayNumber, shanghaiInstantMs } from './time';

export interface DatedReminder {
  /** YYYY-MM-DD, Asia/Shanghai: the day it was meant for. */
  date: string;
  /** ISO instant until which its count of working days left holds; absent from older deadlines. */
  stillTrueUntil?: string;
}

/**
 * True while `nowMs` is before the reminder's `stillTrueUntil` (the next working day's start, or the
 * deadline for the last-day reminder) and before the deadline itself. Without `stillTrueUntil` the
 * reminder holds until the end of its own day, China time: later it would name a wrong count.
 */
export function reminderStillTrue(reminder: DatedReminder, dueAtIso: string, nowMs: number): boolean {
  const trueUntilMs = reminder.stillTrueUntil === undefined ? shanghaiInstantMs(dayNumber(reminder.date) + 1, 0) : Date.parse(reminder.stillTrueUntil);
  return nowMs < Math.min(trueUntilMs, Date.parse(dueAtIso));
}
