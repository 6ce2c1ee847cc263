import { BusinessCalendar } from '../../workflows/rules/calendar';
import {
  type CustomerClass,
  type IncidentGradingInput,
  type PriorOccurrence,
  SECURITY_INCIDENT_KINDS,
  gradeIncident,
  nextEscalation,
} from '../../workflows/rules/grading';
import { OFFICIAL_2025_2026 } from './official-schedules';

const calendar = new BusinessCalendar(OFFICIAL_2025_2026);

function grade(input: Partial<IncidentGradingInput> & Pick<IncidentGradingInput, 'customerClass' | 'productFamily'>) {
  return gradeIncident(input);
}

describe('table 1: network products by affected users', () => {
  const cells: [CustomerClass, number, 1 | 2 | 3][] = [
    ['A', 9000, 1], ['A', 6000, 1], ['A', 4000, 2], ['A', 1000, 3],
    ['B', 9000, 1], ['B', 6000, 2], ['B', 4000, 3], ['B', 1000, 3],
    ['C', 9000, 2], ['C', 6000, 3], ['C', 4000, 3], ['C', 1000, 3],
  ];
  it.each(cells)('class %s, %i users: level %i', (customerClass, affectedUsers, level) => {
    const result = grade({ customerClass, productFamily: 'network', affectedUsers });
    expect(result).toMatchObject({ isIncident: true, level, outcome: 'new' });
    expect(result.rules.map((rule) => rule.code)).toEqual(['network_affected_users']);
  });

  // Band edges: "> 8000" is strict; a shared end point (5000, 3000) falls into the more severe band (从严).
  const edges = [8001, 8000, 5000, 4999, 3000, 2999, 400, 399];
  it.each([
    ['A', [1, 1, 1, 2, 2, 3, 3, null]],
    ['B', [1, 2, 2, 3, 3, 3, 3, null]],
    ['C', [2, 3, 3, 3, 3, 3, 3, null]],
  ] as const)('class %s at 8001, 8000, 5000, 4999, 3000, 2999, 400, 399 users: %j', (customerClass, levels) => {
    expect(edges.map((affectedUsers) => grade({ customerClass, productFamily: 'network', affectedUsers }).level)).toEqual(levels);
  });

  it('ignores the share of service lost when the users are known', () => {
    const result = grade({ customerClass: 'A', productFamily: 'network', affectedUsers: 1000, serviceLostPercent: 100 });
    expect(result.level).toBe(3);
  });
});

describe('tables 2-4: share of service lost', () => {
  const shares = [100, 80, 50] as const;
  const expected: Record<CustomerClass, [number, number, number]> = { A: [1, 2, 3], B: [2, 3, 3], C: [3, 3, 3] };

  describe.each([
    ['network (users unknown)', { productFamily: 'network' as const }, 'network_service_share'],
    ['storage', { productFamily: 'storage' as const }, 'storage_service_share'],
    ['servers, whole chassis or 2+ devices', { productFamily: 'server' as const, serverChassisOrMultipleDevices: true }, 'server_service_share'],
  ])('%s', (_name, product, code) => {
    const classes: CustomerClass[] = code === 'network_service_share' ? ['A', 'B', 'C'] : ['A', 'B'];
    const cells = classes.flatMap((customerClass) => shares.map((share, column) => [customerClass, share, expected[customerClass][column]!] as const));
    it.each(cells)('class %s, %i %% lost: level %i', (customerClass, serviceLostPercent, level) => {
      const result = grade({ customerClass, ...product, serviceLostPercent });
      expect(result.level).toBe(level);
      expect(result.rules.map((rule) => rule.code)).toEqual([code]);
    });
  });

  it.each([
    [100, 1], [99.9, 2], [70.1, 2], [70, 3], [30, 3], [29.9, null], [0, null],
  ] as const)('class A network edge %s %%: level %s', (serviceLostPercent, level) => {
    expect(grade({ customerClass: 'A', productFamily: 'network', serviceLostPercent }).level).toBe(level);
  });

  it('has no class C row for storage and servers', () => {
    expect(grade({ customerClass: 'C', productFamily: 'storage', serviceLostPercent: 100 })).toMatchObject({ isIncident: false, level: null, outcome: 'not_an_incident', rules: [] });
    expect(grade({ customerClass: 'C', productFamily: 'server', serverChassisOrMultipleDevices: true, serviceLostPercent: 100 }).level).toBeNull();
  });

  it('does not apply to a network-management system, graded by table 6 only', () => {
    expect(grade({ customerClass: 'A', productFamily: 'nms', serviceLostPercent: 100, affectedUsers: 9000 }).level).toBeNull();
    expect(grade({ customerClass: 'A', productFamily: 'nms', serviceLostPercent: 100, nmsOutage: { allNmsDownHours: 30 } }).level).toBe(2);
  });

  it('applies to servers only when a whole chassis or two or more devices failed', () => {
    expect(grade({ customerClass: 'A', productFamily: 'server', serviceLostPercent: 100 }).level).toBeNull();
    expect(grade({ customerClass: 'A', productFamily: 'server', serverChassisOrMultipleDevices: false, serviceLostPercent: 100 }).level).toBeNull();
  });
});

describe('table 5: unrecoverable data loss', () => {
  it.each([
    ['critical_database_or_financial', 1],
    ['important_files', 2],
  ] as const)('%s: level %i for every class', (unrecoverableDataLoss, level) => {
    for (const customerClass of ['A', 'B', 'C'] as const) {
      expect(grade({ customerClass, productFamily: 'storage', unrecoverableDataLoss }).level).toBe(level);
    }
  });
});

describe('table 6: network-management outage', () => {
  it.each([
    ['A', { allNmsDownHours: 25 }, 2, 'nms_outage_e1'],
    ['A', { elementMaintenanceDownPercent: 70, elementMaintenanceDownHours: 49 }, 2, 'nms_outage_e1'],
    ['A', { allNmsDownHours: 24 }, 3, 'nms_outage_e2'],
    ['A', { allNmsDownHours: 12 }, 3, 'nms_outage_e2'],
    ['A', { elementMaintenanceDownPercent: 90, elementMaintenanceDownHours: 48 }, 3, 'nms_outage_e2'],
    ['A', { elementMaintenanceDownPercent: 70, elementMaintenanceDownHours: 24 }, 3, 'nms_outage_e2'],
    ['B', { allNmsDownHours: 30 }, 3, 'nms_outage_e1'],
    ['B', { allNmsDownHours: 13 }, 3, 'nms_outage_e2'],
    ['B', { elementMaintenanceDownPercent: 75, elementMaintenanceDownHours: 50 }, 3, 'nms_outage_e1'],
    ['B', { elementMaintenanceDownPercent: 75, elementMaintenanceDownHours: 30 }, 3, 'nms_outage_e2'],
  ] as const)('class %s, %j: level %i (%s)', (customerClass, nmsOutage, level, code) => {
    const result = grade({ customerClass, productFamily: 'network', nmsOutage });
    expect(result.level).toBe(level);
    expect(result.rules.map((rule) => rule.code)).toEqual([code]);
  });

  it.each([
    ['A', { allNmsDownHours: 11.9 }],
    ['A', { elementMaintenanceDownPercent: 69, elementMaintenanceDownHours: 100 }],
    ['A', { elementMaintenanceDownPercent: 80, elementMaintenanceDownHours: 23 }],
    ['C', { allNmsDownHours: 100 }],
  ] as const)('class %s, %j: no level', (customerClass, nmsOutage) => {
    expect(grade({ customerClass, productFamily: 'network', nmsOutage }).level).toBeNull();
  });
});

describe('table 7: customer-data security incidents', () => {
  it.each(SECURITY_INCIDENT_KINDS.map((kind) => [kind]))('%s: level 2', (kind) => {
    const result = grade({ customerClass: 'C', productFamily: 'network', securityIncidents: [kind] });
    expect(result.level).toBe(2);
    expect(result.rules[0]?.code).toBe(`security_${kind}`);
  });
});

describe('fire and strong dissatisfaction', () => {
  it('a box device on fire is level 2, a chassis device level 1', () => {
    expect(grade({ customerClass: 'C', productFamily: 'network', fire: 'box' }).level).toBe(2);
    expect(grade({ customerClass: 'C', productFamily: 'network', fire: 'chassis' }).level).toBe(1);
  });

  it('strong dissatisfaction below every threshold is level 3', () => {
    const result = grade({ customerClass: 'B', productFamily: 'network', affectedUsers: 100, customerStronglyDissatisfied: true });
    expect(result).toMatchObject({ isIncident: true, level: 3 });
    expect(result.rules.map((rule) => rule.code)).toEqual(['strong_dissatisfaction']);
  });

  it('strong dissatisfaction adds nothing once a threshold is met', () => {
    const result = grade({ customerClass: 'A', productFamily: 'network', affectedUsers: 9000, customerStronglyDissatisfied: true });
    expect(result.rules.map((rule) => rule.code)).toEqual(['network_affected_users']);
  });

  it('below every threshold and no dissatisfaction: not an incident', () => {
    expect(grade({ customerClass: 'A', productFamily: 'network', affectedUsers: 100 })).toMatchObject({ isIncident: false, level: null, outcome: 'not_an_incident' });
  });
});

describe('the most severe dimension wins', () => {
  it('lists every rule and takes the highest level', () => {
    const result = grade({ customerClass: 'B', productFamily: 'storage', serviceLostPercent: 50, securityIncidents: ['personal_data_leaked'], fire: 'chassis' });
    expect(result.level).toBe(1);
    expect(result.rules.map((rule) => [rule.code, rule.level])).toEqual([
      ['storage_service_share', 3],
      ['security_personal_data_leaked', 2],
      ['fire_chassis', 1],
    ]);
    expect(result.rules[2]?.en).toContain('chassis');
    expect(result.rules[2]?.zh).toContain('框式设备');
  });
});

describe('history: repeats within 3 months, recurrence within 24 h, never lowered', () => {
  const occurrence = { customerId: 'c1', siteId: 's1', productId: 'p1', deviceId: 'd1', symptom: 'link-down', occurredAt: '2026-06-15T10:00:00+08:00' };
  const prior = (overrides: Partial<PriorOccurrence>): PriorOccurrence => ({
    incidentId: 'INC-1',
    customerId: 'c1',
    siteId: 's1',
    productId: 'p1',
    deviceId: 'd1',
    symptom: 'other',
    occurredAt: '2026-05-01T10:00:00+08:00',
    recoveredAt: '2026-05-01T12:00:00+08:00',
    level: 3,
    ...overrides,
  });
  const base = { customerClass: 'A' as const, productFamily: 'network' as const, affectedUsers: 1000, occurrence };

  it('the same customer, site and product within 3 months raises one level', () => {
    const result = gradeIncident({ ...base, history: [prior({})] });
    expect(result).toMatchObject({ level: 2, outcome: 'new' });
    expect(result.rules.map((rule) => rule.code)).toEqual(['network_affected_users', 'repeat_within_3_months']);
  });

  it('level 1 stays level 1', () => {
    expect(gradeIncident({ ...base, affectedUsers: 9000, history: [prior({})] }).level).toBe(1);
  });

  it.each([
    ['exactly 3 months earlier', '2026-03-15T10:00:00+08:00', 2],
    ['3 months and a minute earlier', '2026-03-15T09:59:00+08:00', 3],
    ['a different site', null, 3],
  ] as const)('%s', (_name, occurredAt, level) => {
    const history = [occurredAt === null ? prior({ siteId: 's2' }) : prior({ occurredAt, recoveredAt: null })];
    expect(gradeIncident({ ...base, history }).level).toBe(level);
  });

  it('three months before 31 May is 28 February (month end clamped)', () => {
    const may31 = { ...occurrence, occurredAt: '2026-05-31T10:00:00+08:00' };
    expect(gradeIncident({ ...base, occurrence: may31, history: [prior({ occurredAt: '2026-02-28T10:00:00+08:00', recoveredAt: null })] }).level).toBe(2);
    expect(gradeIncident({ ...base, occurrence: may31, history: [prior({ occurredAt: '2026-02-27T10:00:00+08:00', recoveredAt: null })] }).level).toBe(3);
  });

  // 9:00, 17:00 and 10:00 the next day, the same cause [004 第八部分 example].
  const first = prior({ incidentId: 'INC-9', symptom: 'link-down', occurredAt: '2026-06-14T09:00:00+08:00', recoveredAt: '2026-06-14T11:00:00+08:00', level: 3 });
  it('the same symptom within 24 h of recovery continues the incident', () => {
    const result = gradeIncident({ ...base, occurrence: { ...occurrence, occurredAt: '2026-06-14T17:00:00+08:00' }, history: [first] });
    expect(result).toMatchObject({ outcome: 'continuation', continuesIncidentId: 'INC-9', level: 3 });
    expect(result.rules.map((rule) => rule.code)).toContain('recurrence_within_24h_continues');
  });

  it('a third occurrence opens a new incident one level higher', () => {
    const second = { ...first, occurredAt: '2026-06-14T17:00:00+08:00', recoveredAt: '2026-06-14T18:00:00+08:00' };
    const result = gradeIncident({ ...base, occurrence: { ...occurrence, occurredAt: '2026-06-15T10:00:00+08:00' }, history: [first, second] });
    expect(result).toMatchObject({ outcome: 'new', continuesIncidentId: null, level: 2 });
    expect(result.rules.map((rule) => rule.code)).toEqual(['network_affected_users', 'recurrence_third_occurrence']);
  });

  it('a recurrence more than 24 h after recovery is a new incident (raised as a 3-month repeat)', () => {
    const result = gradeIncident({ ...base, occurrence: { ...occurrence, occurredAt: '2026-06-15T11:00:01+08:00' }, history: [first] });
    expect(result).toMatchObject({ outcome: 'new', level: 2 });
    expect(result.rules.map((rule) => rule.code)).toEqual(['network_affected_users', 'repeat_within_3_months']);
  });

  it('a different symptom is not a recurrence', () => {
    const result = gradeIncident({ ...base, occurrence: { ...occurrence, symptom: 'fan', occurredAt: '2026-06-14T17:00:00+08:00' }, history: [first] });
    expect(result.outcome).toBe('new');
  });

  it('a level is never lowered', () => {
    const result = gradeIncident({ customerClass: 'B', productFamily: 'network', affectedUsers: 500, currentLevel: 1 });
    expect(result.level).toBe(1);
    expect(result.rules.map((rule) => rule.code)).toEqual(['network_affected_users', 'never_lowered']);
    expect(gradeIncident({ customerClass: 'A', productFamily: 'network', affectedUsers: 9000, currentLevel: 3 }).level).toBe(1);
  });

  it('rejects nonsense input', () => {
    expect(() => grade({ customerClass: 'D' as CustomerClass, productFamily: 'network' })).toThrow(RangeError);
    expect(() => grade({ customerClass: 'A', productFamily: 'network', serviceLostPercent: 120 })).toThrow(RangeError);
    expect(() => grade({ customerClass: 'A', productFamily: 'network', affectedUsers: -1 })).toThrow(RangeError);
  });
});

describe('nextEscalation', () => {
  it('level 1 moves up 2 h after entering it', () => {
    expect(nextEscalation(calendar, { ladderLevel: 1, levelEnteredAt: '2026-10-01T23:00:00+08:00' })).toMatchObject({
      escalateAt: '2026-10-02T01:00:00+08:00',
      next: { level: 2 },
    });
  });

  it('level 2 waits for the arrival on site, then allows 4 h', () => {
    expect(nextEscalation(calendar, { ladderLevel: 2, levelEnteredAt: '2026-03-16T10:00:00+08:00' })).toMatchObject({ escalateAt: null, next: { level: 3 } });
    expect(
      nextEscalation(calendar, { ladderLevel: 2, levelEnteredAt: '2026-03-16T10:00:00+08:00', arrivedOnSiteAt: '2026-03-16T11:30:00+08:00' }),
    ).toMatchObject({ escalateAt: '2026-03-16T15:30:00+08:00' });
  });

  it.each([
    ['an ordinary Tuesday', '2026-03-17T14:00:00+08:00', '2026-03-18T14:00:00+08:00'],
    ['a Friday before a weekend', '2026-03-13T14:00:00+08:00', '2026-03-16T14:00:00+08:00'],
    ['a Friday before an adjusted working Saturday', '2026-10-09T14:00:00+08:00', '2026-10-10T14:00:00+08:00'],
    ['the eve of National Day', '2026-09-30T10:00:00+08:00', '2026-10-08T10:00:00+08:00'],
  ])('level 3 moves up after 1 working day: %s', (_name, levelEnteredAt, escalateAt) => {
    expect(nextEscalation(calendar, { ladderLevel: 3, levelEnteredAt })).toMatchObject({ escalateAt, next: { level: 4 }, provisional: false });
  });

  it('level 3 in the last days of the last published year is provisional', () => {
    expect(nextEscalation(calendar, { ladderLevel: 3, levelEnteredAt: '2026-12-31T14:00:00+08:00' })).toMatchObject({
      escalateAt: '2027-01-01T14:00:00+08:00',
      provisional: true,
    });
  });

  it('level 4 brings the vendor and a standby unit and is the top', () => {
    const decision = nextEscalation(calendar, { ladderLevel: 4, levelEnteredAt: '2026-03-16T10:00:00+08:00' });
    expect(decision).toMatchObject({ next: null, escalateAt: null });
    expect(decision.current.actions).toEqual(['technical_director_on_site', 'call_vendor_senior_engineers', 'install_standby_unit', 'switch_back_after_fix']);
  });

  it('nothing is due once restored', () => {
    expect(nextEscalation(calendar, { ladderLevel: 1, levelEnteredAt: '2026-03-16T10:00:00+08:00', restored: true })).toMatchObject({ next: null, escalateAt: null });
  });
});
