import { BusinessCalendar } from '../../workflows/rules/calendar';
import { SLA_CLASSES, type SlaClass, dueAt, faultReportDueAt, responseTargets, shareOfPromiseElapsedAt, type Severity, type SiteDistance } from '../../workflows/rules/sla';
import { OFFICIAL_2025_2026 } from './official-schedules';

const calendar = new BusinessCalendar(OFFICIAL_2025_2026);

type Expected = Record<SlaClass, string>;

// Each scenario gives the expected deadline of every SLA class.
const scenarios: [string, string, Expected][] = [
  [
    'a weekend: Friday 16:00, before an ordinary weekend',
    '2026-03-13T16:00:00+08:00',
    {
      '5x8': '2026-03-16T16:00:00+08:00',
      '7x24': '2026-03-14T16:00:00+08:00',
      NBD: '2026-03-16T17:00:00+08:00',
      ND: '2026-03-14T23:59:59+08:00',
      '30CD': '2026-04-12T23:59:59+08:00',
      '4H': '2026-03-13T20:00:00+08:00',
      '2H': '2026-03-13T18:00:00+08:00',
    },
  ],
  [
    'a weekend: Saturday 10:00, outside 5x8 hours',
    '2026-03-14T10:00:00+08:00',
    {
      '5x8': '2026-03-16T17:00:00+08:00',
      '7x24': '2026-03-15T10:00:00+08:00',
      NBD: '2026-03-16T17:00:00+08:00',
      ND: '2026-03-15T23:59:59+08:00',
      '30CD': '2026-04-13T23:59:59+08:00',
      '4H': '2026-03-14T14:00:00+08:00',
      '2H': '2026-03-14T12:00:00+08:00',
    },
  ],
  [
    'a holiday: Wednesday 15:00 before National Day (10-01..10-07 off)',
    '2026-09-30T15:00:00+08:00',
    {
      '5x8': '2026-10-08T15:00:00+08:00',
      '7x24': '2026-10-01T15:00:00+08:00',
      NBD: '2026-10-08T17:00:00+08:00',
      ND: '2026-10-01T23:59:59+08:00',
      '30CD': '2026-10-30T23:59:59+08:00',
      '4H': '2026-09-30T19:00:00+08:00',
      '2H': '2026-09-30T17:00:00+08:00',
    },
  ],
  [
    'a holiday: during National Day, 2026-10-03 11:00',
    '2026-10-03T11:00:00+08:00',
    {
      '5x8': '2026-10-08T17:00:00+08:00',
      '7x24': '2026-10-04T11:00:00+08:00',
      NBD: '2026-10-08T17:00:00+08:00',
      ND: '2026-10-04T23:59:59+08:00',
      '30CD': '2026-11-02T23:59:59+08:00',
      '4H': '2026-10-03T15:00:00+08:00',
      '2H': '2026-10-03T13:00:00+08:00',
    },
  ],
  [
    'an adjusted working Saturday: Friday 11:00 before Saturday 2026-10-10 (worked)',
    '2026-10-09T11:00:00+08:00',
    {
      '5x8': '2026-10-10T11:00:00+08:00',
      '7x24': '2026-10-10T11:00:00+08:00',
      NBD: '2026-10-10T17:00:00+08:00',
      ND: '2026-10-10T23:59:59+08:00',
      '30CD': '2026-11-08T23:59:59+08:00',
      '4H': '2026-10-09T15:00:00+08:00',
      '2H': '2026-10-09T13:00:00+08:00',
    },
  ],
  [
    'an adjusted working Saturday: 08:00 on it',
    '2026-10-10T08:00:00+08:00',
    {
      '5x8': '2026-10-10T17:00:00+08:00',
      '7x24': '2026-10-11T08:00:00+08:00',
      NBD: '2026-10-12T17:00:00+08:00',
      ND: '2026-10-11T23:59:59+08:00',
      '30CD': '2026-11-09T23:59:59+08:00',
      '4H': '2026-10-10T12:00:00+08:00',
      '2H': '2026-10-10T10:00:00+08:00',
    },
  ],
];

describe.each(scenarios)('SLA deadlines across %s', (_name, start, expected) => {
  it.each(SLA_CLASSES.map((slaClass) => [slaClass]))('%s', (slaClass) => {
    const result = dueAt(calendar, start, slaClass);
    expect(result.dueAt).toBe(expected[slaClass]);
    expect(result.provisional).toBe(false);
    expect(result.rule.en.length).toBeGreaterThan(0);
  });
});

describe('5x8 details', () => {
  it.each([
    ['2026-03-16T09:00:00+08:00', '2026-03-16T09:00:00+08:00', '2026-03-16T17:00:00+08:00'],
    ['2026-03-16T08:59:00+08:00', '2026-03-16T09:00:00+08:00', '2026-03-16T17:00:00+08:00'],
    ['2026-03-16T17:00:00+08:00', '2026-03-17T09:00:00+08:00', '2026-03-17T17:00:00+08:00'],
    ['2026-03-16T16:59:00+08:00', '2026-03-16T16:59:00+08:00', '2026-03-17T16:59:00+08:00'],
    ['2026-03-16T02:00:00Z', '2026-03-16T10:00:00+08:00', '2026-03-17T10:00:00+08:00'],
  ])('from %s the clock starts %s and the deadline is %s', (start, clockStartsAt, due) => {
    expect(dueAt(calendar, start, '5x8')).toMatchObject({ clockStartsAt, dueAt: due });
  });
});

describe('75 % of a restoration promise (when the engineer is warned)', () => {
  it.each([
    // Friday 16:00: 1 service hour on Friday, 5 more on Monday -> Monday 14:00, not Sunday night.
    ['5x8', '2026-03-13T16:00:00+08:00', '2026-03-16T14:00:00+08:00'],
    // Saturday: the clock starts Monday 09:00; 6 service hours -> Monday 15:00.
    ['5x8', '2026-03-14T10:00:00+08:00', '2026-03-16T15:00:00+08:00'],
    // Round-the-clock classes: 75 % of the wall time.
    ['7x24', '2026-03-13T16:00:00+08:00', '2026-03-14T10:00:00+08:00'],
    ['4H', '2026-03-13T16:00:00+08:00', '2026-03-13T19:00:00+08:00'],
  ] as const)('%s from %s: %s', (slaClass, start, expected) => {
    expect(shareOfPromiseElapsedAt(calendar, start, slaClass, 0.75)).toBe(expected);
  });
});

describe('provisional SLA deadlines', () => {
  it('flags NBD and 5x8 deadlines that fall in an unpublished year', () => {
    expect(dueAt(calendar, '2026-12-31T18:00:00+08:00', 'NBD')).toMatchObject({ dueAt: '2027-01-01T17:00:00+08:00', provisional: true, missingYears: [2027] });
    expect(dueAt(calendar, '2026-12-31T18:00:00+08:00', '5x8')).toMatchObject({ provisional: true, missingYears: [2027] });
    expect(dueAt(calendar, '2026-12-31T18:00:00+08:00', '4H')).toMatchObject({ provisional: false });
  });

  it('rejects an unknown class and an instant without an offset', () => {
    expect(() => dueAt(calendar, '2026-03-16T09:00:00+08:00', '9x5' as SlaClass)).toThrow(RangeError);
    expect(() => dueAt(calendar, '2026-03-16T09:00:00', 'NBD')).toThrow(RangeError);
  });
});

describe('responseTargets', () => {
  const start = '2026-10-01T10:00:00+08:00';
  const onSite: [SiteDistance, string | null][] = [
    ['city', '2026-10-01T10:30:00+08:00'],
    [0, '2026-10-01T11:00:00+08:00'],
    [100, '2026-10-01T11:00:00+08:00'],
    [100.5, '2026-10-01T13:00:00+08:00'],
    [300, '2026-10-01T13:00:00+08:00'],
    [301, '2026-10-01T15:00:00+08:00'],
    [500, '2026-10-01T15:00:00+08:00'],
    [501, null],
  ];
  const phone: Record<Severity, string> = {
    critical: '2026-10-01T10:05:00+08:00',
    major: '2026-10-01T10:05:00+08:00',
    serious: '2026-10-01T10:10:00+08:00',
    minor: '2026-10-01T11:00:00+08:00',
  };
  const temporary: Record<Severity, string | null> = {
    critical: '2026-10-01T10:30:00+08:00',
    major: '2026-10-01T10:30:00+08:00',
    serious: '2026-10-01T11:00:00+08:00',
    minor: null,
  };
  const cases = (['critical', 'major', 'serious', 'minor'] as const).flatMap((severity) =>
    onSite.map(([distance, due]) => [severity, distance, severity === 'minor' ? null : due] as const),
  );

  it.each(cases)('%s at %s km: on site by %s', (severity, distance, onSiteDue) => {
    const targets = responseTargets(severity, distance, start);
    expect(targets.phoneResponse.dueAt).toBe(phone[severity]);
    expect(targets.temporarySolution.dueAt).toBe(temporary[severity]);
    expect(targets.onSite.dueAt).toBe(onSiteDue);
    expect(targets.faultReport.dueAt).toBeNull();
  });

  it('puts the fault report 24 h after the repair, holidays included', () => {
    expect(faultReportDueAt('2026-09-30T22:15:00+08:00')).toBe('2026-10-01T22:15:00+08:00');
    expect(responseTargets('critical', 'city', start, '2026-10-01T12:00:00+08:00').faultReport.dueAt).toBe('2026-10-02T12:00:00+08:00');
  });

  it('rejects a negative distance and an unknown severity', () => {
    expect(() => responseTargets('major', -1, start)).toThrow(RangeError);
    expect(() => responseTargets('urgent' as Severity, 10, start)).toThrow(RangeError);
  });
});
