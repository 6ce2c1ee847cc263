import { describeSlotConflict, firstAllowedSlot, slotConflict, type SlotCalendarRules } from '../../workflows/rules/rectification-slots';

// 2027-01-04 is a Monday. Busy every weekday 08:00-20:00 China time, Sunday 00:00-06:00; the
// Spring Festival protected 2027-02-05 .. 2027-02-13.
const rules: SlotCalendarRules = {
  busyHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 8 * 60, endMinute: 20 * 60 })).concat([{ weekday: 7, startMinute: 0, endMinute: 6 * 60 }]),
  protectedPeriods: [{ startsOn: '2027-02-05', endsOn: '2027-02-13', reason: '春节重要通信保障期间' }],
};

describe('slotConflict', () => {
  test('a night slot on a weekday is allowed', () => {
    expect(slotConflict(rules, { startsAt: '2027-01-04T22:00:00+08:00', durationMinutes: 120 })).toBeNull();
  });

  test('a slot overlapping the busy hours by one minute is refused, naming the hours and the day', () => {
    const conflict = slotConflict(rules, { startsAt: '2027-01-05T06:01:00+08:00', durationMinutes: 120 });
    expect(conflict).toEqual({ kind: 'busy_hours', weekday: 2, startMinute: 480, endMinute: 1200, on: '2027-01-05', endsAt: '2027-01-05T20:00:00+08:00' });
    expect(describeSlotConflict(conflict!)).toBe("the customer's busy hours 08:00-20:00 China time on 2027-01-05 (weekday 2)");
  });

  test('a slot ending exactly when the busy hours start is allowed (end exclusive)', () => {
    expect(slotConflict(rules, { startsAt: '2027-01-05T06:00:00+08:00', durationMinutes: 120 })).toBeNull();
  });

  test('a slot running past midnight into Sunday morning busy hours is refused on the Sunday', () => {
    const conflict = slotConflict(rules, { startsAt: '2027-01-09T23:00:00+08:00', durationMinutes: 120 });
    expect(conflict).toMatchObject({ kind: 'busy_hours', weekday: 7, on: '2027-01-10' });
  });

  test('any slot touching a protected day is refused, naming the period and its reason; the day after is allowed', () => {
    const conflict = slotConflict(rules, { startsAt: '2027-02-04T23:30:00+08:00', durationMinutes: 60 });
    expect(conflict).toEqual({ kind: 'protected_period', startsOn: '2027-02-05', endsOn: '2027-02-13', reason: '春节重要通信保障期间', endsAt: '2027-02-14T00:00:00+08:00' });
    expect(describeSlotConflict(conflict!)).toContain('2027-02-05 to 2027-02-13 (春节重要通信保障期间)');
    expect(slotConflict(rules, { startsAt: '2027-02-13T22:00:00+08:00', durationMinutes: 60 })).not.toBeNull();
    expect(slotConflict(rules, { startsAt: '2027-02-14T07:00:00+08:00', durationMinutes: 60 })).toBeNull();
  });

  test('instants given in UTC are read in China time', () => {
    // 2027-01-05T01:00Z is 09:00 China time, in the busy hours.
    expect(slotConflict(rules, { startsAt: '2027-01-05T01:00:00Z', durationMinutes: 30 })).toMatchObject({ kind: 'busy_hours', on: '2027-01-05' });
  });
});

describe('firstAllowedSlot', () => {
  test('an allowed start is kept, rounded up to the quarter hour', () => {
    expect(firstAllowedSlot(rules, Date.parse('2027-01-04T21:07:00+08:00'), 90)).toEqual({ startsAt: '2027-01-04T21:15:00+08:00', durationMinutes: 90 });
  });

  test('a start in the busy hours moves to their end', () => {
    expect(firstAllowedSlot(rules, Date.parse('2027-01-05T10:00:00+08:00'), 120).startsAt).toBe('2027-01-05T20:00:00+08:00');
  });

  test('a slot too long for the evening gap goes on to the first gap that fits', () => {
    // Weekday nights are 12 h (20:00-08:00); Friday 20:00 + 13 h ends Saturday 09:00, which is free.
    expect(firstAllowedSlot(rules, Date.parse('2027-01-04T20:00:00+08:00'), 13 * 60).startsAt).toBe('2027-01-08T20:00:00+08:00');
  });

  test('the preferred time of day is kept and a slot never lands in a protected period or busy hours', () => {
    const slot = firstAllowedSlot(rules, Date.parse('2027-02-03T12:00:00+08:00'), 180, 22 * 60);
    expect(slot.startsAt).toBe('2027-02-03T22:00:00+08:00');
    // 2027-02-04 22:00 + 3 h runs into the protected 02-05: the next 22:00 after the period.
    const moved = firstAllowedSlot(rules, Date.parse('2027-02-04T12:00:00+08:00'), 180, 22 * 60);
    expect(moved.startsAt).toBe('2027-02-14T22:00:00+08:00');
    expect(slotConflict(rules, moved)).toBeNull();
  });

  test('every slot it proposes over a year of start points is free of conflicts', () => {
    const start = Date.parse('2027-01-01T00:00:00+08:00');
    for (let hour = 0; hour < 365 * 24; hour += 37) {
      const slot = firstAllowedSlot(rules, start + hour * 3_600_000, 150);
      expect(slotConflict(rules, slot)).toBeNull();
      expect(Date.parse(slot.startsAt)).toBeGreaterThanOrEqual(start + hour * 3_600_000);
    }
  });

  test('a customer busy all week has no slot: a RangeError', () => {
    const always: SlotCalendarRules = { busyHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startMinute: 0, endMinute: 1440 })), protectedPeriods: [] };
    expect(() => firstAllowedSlot(always, Date.parse('2027-01-04T00:00:00+08:00'), 60)).toThrow(RangeError);
  });
});
