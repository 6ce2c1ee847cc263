// The State Council's published schedules, typed in from the notices themselves (not from the
// chinese-workday package), so the tests check the calendar against the source:
// 2025: 国办发明电〔2024〕12号; 2026: 国办发明电〔2025〕7号.
import type { BusinessCalendarData, CalendarDayEntry } from '../../workflows/rules/calendar';
import { addCalendarDays } from '../../workflows/rules/time';

function holidays(first: string, last: string, name: string): CalendarDayEntry[] {
  const days: CalendarDayEntry[] = [];
  for (let date = first; date <= last; date = addCalendarDays(date, 1)) days.push({ date, kind: 'holiday', name });
  return days;
}

function working(date: string, name: string): CalendarDayEntry {
  return { date, kind: 'adjusted_working_day', name };
}

export const OFFICIAL_2025: CalendarDayEntry[] = [
  ...holidays('2025-01-01', '2025-01-01', '元旦'),
  ...holidays('2025-01-28', '2025-02-04', '春节'),
  working('2025-01-26', '补春节'),
  working('2025-02-08', '补春节'),
  ...holidays('2025-04-04', '2025-04-06', '清明节'),
  ...holidays('2025-05-01', '2025-05-05', '劳动节'),
  working('2025-04-27', '补劳动节'),
  ...holidays('2025-05-31', '2025-06-02', '端午节'),
  ...holidays('2025-10-01', '2025-10-08', '国庆节、中秋节'),
  working('2025-09-28', '补国庆节'),
  working('2025-10-11', '补国庆节'),
];

export const OFFICIAL_2026: CalendarDayEntry[] = [
  ...holidays('2026-01-01', '2026-01-03', '元旦'),
  working('2026-01-04', '补元旦'),
  ...holidays('2026-02-15', '2026-02-23', '春节'),
  working('2026-02-14', '补春节'),
  working('2026-02-28', '补春节'),
  ...holidays('2026-04-04', '2026-04-06', '清明节'),
  ...holidays('2026-05-01', '2026-05-05', '劳动节'),
  working('2026-05-09', '补劳动节'),
  ...holidays('2026-06-19', '2026-06-21', '端午节'),
  ...holidays('2026-09-25', '2026-09-27', '中秋节'),
  ...holidays('2026-10-01', '2026-10-07', '国庆节'),
  working('2026-09-20', '补国庆节'),
  working('2026-10-10', '补国庆节'),
];

/** 2025 and 2026 only: 2024 and 2027 are "unpublished" here. */
export const OFFICIAL_2025_2026: BusinessCalendarData = {
  publishedYears: [2025, 2026],
  days: [...OFFICIAL_2025, ...OFFICIAL_2026],
};
