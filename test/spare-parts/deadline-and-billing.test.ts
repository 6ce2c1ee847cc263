import { nextBillingCycle } from '../../activities/shared/billing';
import { returnDeadline } from '../../activities/spare-part/activities';
import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import { createBusinessCalendar } from '../../workflows/rules/calendar';
import { reminderStillTrue } from '../../workflows/rules/reminders';

const calendar = createBusinessCalendar(loadChineseWorkdayDataset());

describe('spare-part return deadline (15 China working days after receipt)', () => {
  test('received 2026-09-24: due 2026-10-22 (Mid-Autumn, National Day, adjusted Saturday 10-10), reminders 10-15, 10-21, 10-22 at 09:00', () => {
    const deadline = returnDeadline(calendar, new Date('2026-09-24T10:00:00+08:00'));
    expect(deadline).toMatchObject({ dueDate: '2026-10-22', provisional: false, missingYears: [] });
    expect(Date.parse(deadline.dueAt)).toBe(Date.parse('2026-10-22T23:59:59+08:00'));
    expect(deadline.reminders).toEqual([
      { date: '2026-10-15', at: '2026-10-15T01:00:00.000Z', workingDaysLeft: 5, stillTrueUntil: '2026-10-15T16:00:00.000Z' },
      { date: '2026-10-21', at: '2026-10-21T01:00:00.000Z', workingDaysLeft: 1, stillTrueUntil: '2026-10-21T16:00:00.000Z' },
      { date: '2026-10-22', at: '2026-10-22T01:00:00.000Z', workingDaysLeft: 0, stillTrueUntil: '2026-10-22T15:59:59.000Z' },
    ]);
  });

  test('a reminder on the working day before a weekend or holiday stays true until the next working day begins', () => {
    // Received Friday 2026-08-28: due Friday 09-18; "5 working days left" on Friday 09-11 holds over the weekend, until Monday 00:00.
    const deadline = returnDeadline(calendar, new Date('2026-08-28T10:00:00+08:00'));
    expect(deadline.dueDate).toBe('2026-09-18');
    expect(deadline.reminders[0]).toEqual({ date: '2026-09-11', at: '2026-09-11T01:00:00.000Z', workingDaysLeft: 5, stillTrueUntil: '2026-09-13T16:00:00.000Z' });
  });

  test('the receipt day is the Shanghai date: 23:30 UTC on 09-23 is already 09-24 in China', () => {
    expect(returnDeadline(calendar, new Date('2026-09-23T23:30:00Z')).dueDate).toBe('2026-10-22');
  });

  test('a deadline that runs into an unpublished year is provisional and names the year', () => {
    const deadline = returnDeadline(calendar, new Date('2026-12-20T10:00:00+08:00'));
    expect(deadline.provisional).toBe(true);
    expect(deadline.missingYears).toEqual([2027]);
    expect(deadline.dueDate > '2027-01-01').toBe(true);
  });
});

describe('next billing cycle', () => {
  test.each([
    ['2026-10-22T23:59:59+08:00', 25, '2026-10'],
    ['2026-10-25T09:00:00+08:00', 25, '2026-11'],
    ['2026-10-24T23:59:59+08:00', 25, '2026-10'],
    ['2026-12-28T10:00:00+08:00', 10, '2027-01'],
    ['2026-10-31T17:00:00Z', 1, '2026-12'],
  ])('a charge at %s with billing day %i goes to cycle %s', (instant, billingDay, cycle) => {
    expect(nextBillingCycle(new Date(instant), billingDay)).toBe(cycle);
  });
});

describe('a reminder is sent only while it is still true (checked when it comes due)', () => {
  const dueAt = '2026-10-22T15:59:59.000Z';
  const fiveDaysLeft = { date: '2026-10-15', stillTrueUntil: '2026-10-15T16:00:00.000Z' };
  const lastDay = { date: '2026-10-22', stillTrueUntil: dueAt };

  test.each([
    ['on time, 09:00 of its day', fiveDaysLeft, '2026-10-15T09:00:00+08:00', true],
    ['late the same evening', fiveDaysLeft, '2026-10-15T23:59:59+08:00', true],
    ['the next working day: one working day fewer left', fiveDaysLeft, '2026-10-16T00:00:00+08:00', false],
    ['a worker back six days later', fiveDaysLeft, '2026-10-21T08:00:00+08:00', false],
    ['the last-day reminder late on the due day', lastDay, '2026-10-22T23:00:00+08:00', true],
    ['the last-day reminder after the deadline', lastDay, '2026-10-23T00:00:00+08:00', false],
    ['an older deadline without stillTrueUntil, same day', { date: '2026-10-15' }, '2026-10-15T20:00:00+08:00', true],
    ['an older deadline without stillTrueUntil, next day', { date: '2026-10-15' }, '2026-10-16T00:00:00+08:00', false],
  ])('%s', (_case, reminder, now, expected) => {
    expect(reminderStillTrue(reminder, dueAt, Date.parse(now))).toBe(expected);
  });
});
