import { nextBillingCycle } from '../../activities/billing';
import { returnDeadline } from '../../activities/spare-parts';
import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import { createBusinessCalendar } from '../../workflows/rules/calendar';

const calendar = createBusinessCalendar(loadChineseWorkdayDataset());

describe('spare-part return deadline (15 China working days after receipt)', () => {
  test('received 2026-09-24: due 2026-10-22 (Mid-Autumn, National Day, adjusted Saturday 10-10), reminders 10-15, 10-21, 10-22 at 09:00', () => {
    const deadline = returnDeadline(calendar, new Date('2026-09-24T10:00:00+08:00'));
    expect(deadline).toMatchObject({ dueDate: '2026-10-22', provisional: false, missingYears: [] });
    expect(Date.parse(deadline.dueAt)).toBe(Date.parse('2026-10-22T23:59:59+08:00'));
    expect(deadline.reminders).toEqual([
      { date: '2026-10-15', at: '2026-10-15T01:00:00.000Z', workingDaysLeft: 5 },
      { date: '2026-10-21', at: '2026-10-21T01:00:00.000Z', workingDaysLeft: 1 },
      { date: '2026-10-22', at: '2026-10-22T01:00:00.000Z', workingDaysLeft: 0 },
    ]);
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
