import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import { BusinessCalendar, CalendarDataError, addWorkingDayDuration, validateCalendarYear } from '../../workflows/rules/calendar';
import { addCalendarDays, dayNumber, formatShanghai, isoDateFromDayNumber, parseInstant, tryDayNumber } from '../../workflows/rules/time';
import { OFFICIAL_2025_2026 } from './official-schedules';

const official = new BusinessCalendar(OFFICIAL_2025_2026);

describe('the chinese-workday dataset', () => {
  const dataset = loadChineseWorkdayDataset();
  const fromPackage = new BusinessCalendar(dataset);

  it('records its source and version and covers 2011-2026', () => {
    expect(dataset.source).toBe('npm:chinese-workday');
    expect(dataset.version).toBe('1.16.1');
    expect(dataset.publishedYears).toEqual(Array.from({ length: 16 }, (_, index) => 2011 + index));
  });

  it('agrees with the published 2025 and 2026 schedules on every day', () => {
    for (let date = '2025-01-01'; date <= '2026-12-31'; date = addCalendarDays(date, 1)) {
      expect([date, fromPackage.isWorkingDay(date)]).toEqual([date, official.isWorkingDay(date)]);
    }
  });

  it('has 248 working days in each of 2025 and 2026', () => {
    expect(fromPackage.countWorkingDays('2024-12-31', '2025-12-31').count).toBe(248);
    expect(fromPackage.countWorkingDays('2025-12-31', '2026-12-31').count).toBe(248);
  });
});

describe('isWorkingDay', () => {
  it.each([
    ['2026-03-16', true, 'an ordinary Monday'],
    ['2026-03-14', false, 'an ordinary Saturday'],
    ['2026-10-01', false, 'National Day'],
    ['2026-02-16', false, 'a Spring Festival Monday'],
    ['2026-10-10', true, 'an adjusted working Saturday'],
    ['2026-01-04', true, 'an adjusted working Sunday'],
    ['2027-01-01', true, 'a Friday in an unpublished year (weekday rule)'],
  ])('%s is %s (%s)', (date, expected) => {
    expect(official.isWorkingDay(date)).toBe(expected);
  });
});

describe('addWorkingDays: "N working days after D" starts the day after D and ends at 23:59:59 Shanghai', () => {
  it.each([
    // Spring Festival 2025: 01-28..02-04 off, 01-26 (Sun) and 02-08 (Sat) worked.
    ['2025-01-24', 1, '2025-01-26'],
    ['2025-01-24', 2, '2025-01-27'],
    ['2025-01-24', 3, '2025-02-05'],
    ['2025-01-27', 4, '2025-02-08'],
    ['2025-01-27', 5, '2025-02-10'],
    // May Day 2025: 05-01..05-05 off, 04-27 (Sun) worked.
    ['2025-04-25', 1, '2025-04-27'],
    ['2025-04-25', 4, '2025-04-30'],
    ['2025-04-25', 5, '2025-05-06'],
    // National Day 2025: 10-01..10-08 off, 09-28 (Sun) and 10-11 (Sat) worked.
    ['2025-09-26', 1, '2025-09-28'],
    ['2025-09-26', 4, '2025-10-09'],
    ['2025-09-26', 6, '2025-10-11'],
    ['2025-09-26', 7, '2025-10-13'],
    ['2025-09-30', 15, '2025-10-28'],
    // New Year 2026: 01-01..01-03 off, 01-04 (Sun) worked.
    ['2025-12-31', 1, '2026-01-04'],
    // Spring Festival 2026: 02-15..02-23 off, 02-14 (Sat) and 02-28 (Sat) worked.
    ['2026-02-12', 1, '2026-02-13'],
    ['2026-02-12', 2, '2026-02-14'],
    ['2026-02-12', 3, '2026-02-24'],
    ['2026-02-12', 7, '2026-02-28'],
    ['2026-02-12', 8, '2026-03-02'],
    ['2026-02-14', 15, '2026-03-13'],
    // May Day 2026: 05-01..05-05 off, 05-09 (Sat) worked.
    ['2026-04-30', 1, '2026-05-06'],
    ['2026-04-30', 4, '2026-05-09'],
    ['2026-04-30', 5, '2026-05-11'],
    // Mid-Autumn and National Day 2026: 09-25..09-27 and 10-01..10-07 off, 09-20 (Sun) and 10-10 (Sat) worked.
    ['2026-09-18', 1, '2026-09-20'],
    ['2026-09-24', 1, '2026-09-28'],
    ['2026-09-24', 4, '2026-10-08'],
    ['2026-09-24', 6, '2026-10-10'],
    ['2026-09-24', 15, '2026-10-22'],
    // Starting on a holiday or a weekend.
    ['2026-10-03', 1, '2026-10-08'],
    ['2026-03-14', 1, '2026-03-16'],
    // Zero means the day itself.
    ['2026-10-03', 0, '2026-10-03'],
  ])('%s + %i working days = %s', (from, days, due) => {
    expect(official.addWorkingDays(from, days)).toEqual({ due, dueAt: `${due}T23:59:59+08:00`, provisional: false, missingYears: [] });
  });

  it('is provisional when the count runs into a year with no published schedule', () => {
    expect(official.addWorkingDays('2026-12-20', 15)).toEqual({
      due: '2027-01-08',
      dueAt: '2027-01-08T23:59:59+08:00',
      provisional: true,
      missingYears: [2027],
    });
    expect(official.addWorkingDays('2026-12-30', 1)).toMatchObject({ due: '2026-12-31', provisional: false });
    expect(official.addWorkingDays('2026-12-31', 0)).toMatchObject({ provisional: false, missingYears: [] });
    expect(official.addWorkingDays('2024-12-30', 3)).toMatchObject({ due: '2025-01-03', provisional: true, missingYears: [2024] });
    expect(official.addWorkingDays('2024-12-20', 520)).toMatchObject({ provisional: true, missingYears: [2024, 2027] });
  });

  it('agrees with a day-by-day count on random dates and spans', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let sample = 0; sample < 2000; sample++) {
      const from = isoDateFromDayNumber(dayNumber('2024-06-01') + Math.floor(random() * 1000));
      const days = Math.floor(random() * 61);
      let date = from;
      for (let counted = 0; counted < days; ) {
        date = addCalendarDays(date, 1);
        if (official.isWorkingDay(date)) counted++;
      }
      const result = official.addWorkingDays(from, days);
      expect([from, days, result.due]).toEqual([from, days, date]);
      expect(official.countWorkingDays(from, result.due).count).toBe(days);
    }
  });

  it.each([
    ['2026-02-30', 1],
    ['2026-2-3', 1],
    ['not a date', 1],
    ['1999-12-31', 1],
    ['2026-10-01', -1],
    ['2026-10-01', 1.5],
    ['2026-10-01', Number.NaN],
  ])('rejects from=%s days=%s with a RangeError', (from, days) => {
    expect(() => official.addWorkingDays(from, days)).toThrow(RangeError);
  });
});

describe('countWorkingDays counts the days d with from < d <= to', () => {
  it.each([
    ['2026-09-24', '2026-10-22', 15],
    ['2026-10-22', '2026-09-24', -15],
    ['2026-10-01', '2026-10-07', 0],
    ['2026-10-09', '2026-10-10', 1],
    ['2026-03-13', '2026-03-13', 0],
  ])('%s -> %s = %i', (from, to, count) => {
    expect(official.countWorkingDays(from, to)).toEqual({ count, provisional: false, missingYears: [] });
  });

  it('says which years were unpublished', () => {
    expect(official.countWorkingDays('2026-12-31', '2027-01-05')).toEqual({ count: 3, provisional: true, missingYears: [2027] });
  });
});

describe('addWorkingDayDuration: n x 24 h counted only on working days', () => {
  const at = (instant: string, days: number) => formatShanghai(addWorkingDayDuration(official, parseInstant(instant), days));
  it.each([
    ['2026-03-16T10:00:00+08:00', 1, '2026-03-17T10:00:00+08:00'],
    ['2026-03-13T14:00:00+08:00', 1, '2026-03-16T14:00:00+08:00'],
    ['2026-03-14T10:00:00+08:00', 1, '2026-03-17T00:00:00+08:00'],
    ['2026-09-30T10:00:00+08:00', 1, '2026-10-08T10:00:00+08:00'],
    ['2026-10-09T14:00:00+08:00', 1, '2026-10-10T14:00:00+08:00'],
    ['2026-10-03T09:00:00+08:00', 1, '2026-10-09T00:00:00+08:00'],
    ['2026-09-24T00:00:00+08:00', 2, '2026-09-29T00:00:00+08:00'],
  ])('%s + %i working day(s) = %s', (start, days, expected) => {
    expect(at(start, days)).toBe(expected);
  });
});

describe('calendar data validation', () => {
  it('accepts a well-formed year', () => {
    expect(validateCalendarYear(2026, OFFICIAL_2025_2026.days.filter((entry) => entry.date.startsWith('2026')))).toEqual([]);
  });

  it('reports every problem: dates outside the year, duplicates, weekday adjusted working days, bad dates', () => {
    const problems = validateCalendarYear(2027, [
      { date: '2026-12-31', kind: 'holiday' },
      { date: '2027-01-01', kind: 'holiday' },
      { date: '2027-01-01', kind: 'holiday' },
      { date: '2027-02-03', kind: 'adjusted_working_day' },
      { date: '2027-02-30', kind: 'holiday' },
    ]);
    expect(problems).toEqual([
      { index: 0, message: '2026-12-31 is not in 2027' },
      { index: 2, message: '2027-01-01 appears more than once' },
      { index: 3, message: '2027-02-03 is a weekday and cannot be an adjusted working day' },
      { index: 4, message: '2027-02-30 is not a calendar date (YYYY-MM-DD)' },
    ]);
  });

  it('refuses entries for a year not declared published', () => {
    expect(() => new BusinessCalendar({ publishedYears: [2026], days: [{ date: '2027-01-01', kind: 'holiday' }] })).toThrow(CalendarDataError);
  });
});

describe('date helpers', () => {
  it('round-trips every day number of the supported span', () => {
    for (let day = dayNumber('2000-01-01'); day <= dayNumber('2099-12-31'); day++) {
      if (tryDayNumber(isoDateFromDayNumber(day)) !== day) throw new Error(`round trip failed at ${day}`);
    }
  });

  it('formats instants in Shanghai time and requires an explicit offset', () => {
    expect(formatShanghai(parseInstant('2026-10-01T16:00:00Z'))).toBe('2026-10-02T00:00:00+08:00');
    expect(() => parseInstant('2026-10-01T16:00:00')).toThrow(RangeError);
    expect(() => parseInstant('2026-02-30T16:00:00Z')).toThrow(RangeError);
  });
});
