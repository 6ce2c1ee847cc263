// SLA deadlines [004 12.1] and severity response targets [003 2.2.2-2.2.6]. Every function takes
// the start instant as an ISO string with an offset and returns ISO instants in Asia/Shanghai time.

import { type BusinessCalendar, type ServiceWindow } from './calendar';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  type IsoInstant,
  endOfShanghaiDayMs,
  formatShanghai,
  parseInstant,
  shanghaiDayNumber,
  shanghaiInstantMs,
} from './time';

export const SLA_CLASSES = ['5x8', '7x24', 'NBD', 'ND', '30CD', '4H', '2H'] as const;
export type SlaClass = (typeof SLA_CLASSES)[number];

export function isSlaClass(value: unknown): value is SlaClass {
  return typeof value === 'string' && (SLA_CLASSES as readonly string[]).includes(value);
}

/** 09:00-17:00 on working days [004 12.1.1]. */
export const FIVE_BY_EIGHT_WINDOW: ServiceWindow = Object.freeze({ startMs: 9 * HOUR_MS, endMs: 17 * HOUR_MS, workingDaysOnly: true });
/** 00:00-24:00 every day, holidays included [004 12.1.2]. */
export const SEVEN_BY_TWENTY_FOUR_WINDOW: ServiceWindow = Object.freeze({ startMs: 0, endMs: DAY_MS, workingDaysOnly: false });

/**
 * What each class promises, as a deadline from the moment the request is registered:
 * - 5x8: one service day of 5x8 coverage, i.e. 8 service hours counted only 09:00-17:00 on
 *   working days. The clock starts at the next 09:00 of a working day when the request arrives
 *   outside hours: Monday 10:00 -> Tuesday 10:00; Friday 20:00 -> Monday 17:00.
 * - 7x24: one service day of round-the-clock coverage, 24 hours, holidays included.
 * - NBD: by the close of business (17:00) of the next working day after the request's date.
 * - ND: by the end (23:59:59) of the next calendar day.
 * - 30CD: by the end (23:59:59) of the 30th calendar day after the request's date.
 * - 4H / 2H: 4 or 2 hours of round-the-clock time (a 7x24 promise: holidays do not stop it).
 */
export const SLA_CLASS_RULES: Readonly<Record<SlaClass, { en: string; zh: string }>> = Object.freeze({
  '5x8': {
    en: '8 service hours counted only 09:00-17:00 on working days (the clock starts at the next 09:00 of a working day when outside hours)',
    zh: '5×8:仅在工作日9:00~17:00计时,共8个服务小时',
  },
  '7x24': { en: '24 hours round the clock, holidays included', zh: '7×24:全天候计时24小时,节假日不休' },
  NBD: { en: 'by 17:00 of the next working day', zh: 'NBD:下一工作日17:00前' },
  ND: { en: 'by 23:59:59 of the next calendar day', zh: 'ND:下一日历日23:59:59前' },
  '30CD': { en: 'by 23:59:59 of the 30th calendar day after the request date', zh: '30CD:30个日历天后的23:59:59前' },
  '4H': { en: '4 hours round the clock', zh: '4H:4小时(全天候计时)' },
  '2H': { en: '2 hours round the clock', zh: '2H:2小时(全天候计时)' },
});

export interface SlaDeadline {
  slaClass: SlaClass;
  start: IsoInstant;
  /** When the SLA clock starts running (later than start only for 5x8 requests outside hours). */
  clockStartsAt: IsoInstant;
  dueAt: IsoInstant;
  /** True when the deadline depends on a year with no published holiday schedule. */
  provisional: boolean;
  missingYears: number[];
  rule: { en: string; zh: string };
}

const CLOSE_OF_BUSINESS_MS = 17 * HOUR_MS;

export function dueAt(calendar: BusinessCalendar, start: IsoInstant, slaClass: SlaClass): SlaDeadline {
  const startMs = parseInstant(start);
  let clockStartsMs = startMs;
  let dueMs: number;
  switch (slaClass) {
    case '5x8':
      clockStartsMs = calendar.nextWindowInstant(startMs, FIVE_BY_EIGHT_WINDOW);
      dueMs = calendar.addWindowedTime(startMs, 8 * HOUR_MS, FIVE_BY_EIGHT_WINDOW);
      break;
    case '7x24':
      dueMs = startMs + 24 * HOUR_MS;
      break;
    case 'NBD':
      dueMs = shanghaiInstantMs(calendar.nthWorkingDayAfter(shanghaiDayNumber(startMs), 1), CLOSE_OF_BUSINESS_MS);
      break;
    case 'ND':
      dueMs = endOfShanghaiDayMs(shanghaiDayNumber(startMs) + 1);
      break;
    case '30CD':
      dueMs = endOfShanghaiDayMs(shanghaiDayNumber(startMs) + 30);
      break;
    case '4H':
      dueMs = startMs + 4 * HOUR_MS;
      break;
    case '2H':
      dueMs = startMs + 2 * HOUR_MS;
      break;
    default:
      throw new RangeError(`unknown SLA class ${String(slaClass)}; expected one of ${SLA_CLASSES.join(', ')}`);
  }
  const dependsOnCalendar = slaClass === '5x8' || slaClass === 'NBD';
  const missingYears = dependsOnCalendar ? [...calendar.missingYearsBetween(shanghaiDayNumber(startMs), shanghaiDayNumber(dueMs))] : [];
  return {
    slaClass,
    start: formatShanghai(startMs),
    clockStartsAt: formatShanghai(clockStartsMs),
    dueAt: formatShanghai(dueMs),
    provisional: missingYears.length > 0,
    missingYears,
    rule: SLA_CLASS_RULES[slaClass],
  };
}

/**
 * When `share` of a restoration promise's time has run: counted the way the class counts time, so a
 * 5x8 promise made on a Friday afternoon reaches 75 % on Monday in service hours, not on Sunday night.
 */
export function shareOfPromiseElapsedAt(calendar: BusinessCalendar, start: IsoInstant, slaClass: SlaClass, share: number): IsoInstant {
  const startMs = parseInstant(start);
  if (slaClass === '5x8') return formatShanghai(calendar.addWindowedTime(startMs, Math.round(8 * HOUR_MS * share), FIVE_BY_EIGHT_WINDOW));
  const dueMs = parseInstant(dueAt(calendar, start, slaClass).dueAt);
  return formatShanghai(startMs + Math.round((dueMs - startMs) * share));
}

export const SEVERITIES = ['critical', 'major', 'serious', 'minor'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

/** Where the site is relative to our service point [003 2.2.5.8]. */
export type SiteDistance = 'city' | number;

interface SeverityTargets {
  phoneResponseMinutes: number;
  temporarySolutionMinutes: number | null;
  onSite: boolean;
}

/** [003 2.2.4.3, 2.2.5.8] */
export const SEVERITY_TARGETS: Readonly<Record<Severity, SeverityTargets>> = Object.freeze({
  critical: { phoneResponseMinutes: 5, temporarySolutionMinutes: 30, onSite: true },
  major: { phoneResponseMinutes: 5, temporarySolutionMinutes: 30, onSite: true },
  serious: { phoneResponseMinutes: 10, temporarySolutionMinutes: 60, onSite: true },
  minor: { phoneResponseMinutes: 60, temporarySolutionMinutes: null, onSite: false },
});

/** On-site hours by distance for a fault not (yet) established as hardware [003 2.2.5.8]. */
export const ON_SITE_BANDS: readonly { maxKm: number | 'city'; hours: number; en: string; zh: string }[] = Object.freeze([
  { maxKm: 'city', hours: 0.5, en: 'in the service city: 0.5 h', zh: '本市:半小时到' },
  { maxKm: 100, hours: 1, en: 'within 100 km: 1 h', zh: '100公里内:1小时到' },
  { maxKm: 300, hours: 3, en: 'within 300 km: 3 h', zh: '300公里内:3小时到' },
  { maxKm: 500, hours: 5, en: 'within 500 km: 5 h', zh: '500公里内:5小时到' },
]);

export const FAULT_REPORT_HOURS_AFTER_REPAIR = 24;

export interface NamedDeadline {
  /** null when the target does not apply; `rule` says why. */
  dueAt: IsoInstant | null;
  rule: { en: string; zh: string };
}

export interface ResponseTargets {
  severity: Severity;
  start: IsoInstant;
  phoneResponse: NamedDeadline;
  temporarySolution: NamedDeadline;
  onSite: NamedDeadline;
  /** Filled in when the repair time is known (24 h after it); see faultReportDueAt. */
  faultReport: NamedDeadline;
}

function onSiteBand(distance: SiteDistance) {
  if (distance === 'city') return ON_SITE_BANDS[0];
  if (typeof distance !== 'number' || !Number.isFinite(distance) || distance < 0) {
    throw new RangeError(`distance must be 'city' or a number of kilometres >= 0, got ${String(distance)}`);
  }
  return ON_SITE_BANDS.find((band) => band.maxKm !== 'city' && distance <= band.maxKm);
}

/** The fault report is due 24 hours (round the clock) after the repair [003 2.2.6]. */
export function faultReportDueAt(repairedAt: IsoInstant): IsoInstant {
  return formatShanghai(parseInstant(repairedAt) + FAULT_REPORT_HOURS_AFTER_REPAIR * HOUR_MS);
}

/**
 * Severity response targets, all measured round the clock from `start` (the hotline and on-site
 * service run 7x24 [003 2.2.3.1]). Distances above 500 km have no contractual on-site time.
 */
export function responseTargets(
  severity: Severity,
  distance: SiteDistance,
  start: IsoInstant,
  repairedAt?: IsoInstant | null,
): ResponseTargets {
  const targets = SEVERITY_TARGETS[severity];
  if (targets === undefined) throw new RangeError(`unknown severity ${String(severity)}; expected one of ${SEVERITIES.join(', ')}`);
  const startMs = parseInstant(start);
  const after = (ms: number) => formatShanghai(startMs + ms);

  const phoneResponse: NamedDeadline = {
    dueAt: after(targets.phoneResponseMinutes * MINUTE_MS),
    rule: { en: `phone response within ${targets.phoneResponseMinutes} min`, zh: `电话响应${targets.phoneResponseMinutes}分钟` },
  };
  const temporarySolution: NamedDeadline =
    targets.temporarySolutionMinutes === null
      ? { dueAt: null, rule: { en: 'no temporary-solution target for a minor fault', zh: '一般故障不适用临时解决方案时限' } }
      : {
          dueAt: after(targets.temporarySolutionMinutes * MINUTE_MS),
          rule: { en: `temporary solution within ${targets.temporarySolutionMinutes} min`, zh: `发出临时解决方案${targets.temporarySolutionMinutes}分钟` },
        };
  let onSite: NamedDeadline;
  const band = onSiteBand(distance);
  if (!targets.onSite) {
    onSite = { dueAt: null, rule: { en: 'no on-site target for a minor fault', zh: '一般故障不适用现场响应时限' } };
  } else if (band === undefined) {
    onSite = { dueAt: null, rule: { en: 'more than 500 km: no contractual on-site time, agree one with the customer', zh: '超过500公里:无约定现场时限,与客户另行约定' } };
  } else {
    onSite = { dueAt: after(band.hours * HOUR_MS), rule: { en: `on site ${band.en}`, zh: `现场响应${band.zh}` } };
  }
  const faultReport: NamedDeadline = {
    dueAt: repairedAt ? faultReportDueAt(repairedAt) : null,
    rule: repairedAt
      ? { en: 'fault report within 24 h after the repair', zh: '故障修复后24小时内提交故障处理报告' }
      : { en: 'fault report due 24 h after the repair (repair time not known yet)', zh: '故障修复后24小时内提交故障处理报告(尚未修复)' },
  };
  return { severity, start: formatShanghai(startMs), phoneResponse, temporarySolution, onSite, faultReport };
}
