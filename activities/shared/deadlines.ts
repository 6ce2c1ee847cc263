import type { WorkingDayDeadline } from '../../workflows/rules/calendar';
import type { IsoDate } from '../../workflows/rules/time';
import type { Clock } from './clock';
import type { WorkingDayCalendar } from '../spare-part/activities';

export interface DeadlineRequest {
  /** The day the count starts after (e.g. the day the replacement was received), Asia/Shanghai. */
  from: IsoDate;
  workingDays: number;
}

/** A deadline as promised: the workflow records this result, and a later calendar edit never changes it. */
export interface PromisedDeadline extends WorkingDayDeadline {
  from: IsoDate;
  workingDays: number;
  /** When it was computed, i.e. which calendar it was computed from. */
  computedAt: string;
}

export function createDeadlineActivities({ calendar, clock }: { calendar: () => Promise<WorkingDayCalendar>; clock: Clock }) {
  return {
    /** "N working days after D" from the calendar as it is now; call it once and keep the answer. */
    async computeDeadline(request: DeadlineRequest): Promise<PromisedDeadline> {
      const deadline = (await calendar()).addWorkingDays(request.from, request.workingDays);
      return { ...deadline, from: request.from, workingDays: request.workingDays, computedAt: clock.now().toISOString() };
    },
  };
}
