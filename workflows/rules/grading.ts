// Incident grading and the escalation ladder of P2 [004 第八部分 事故定级标准; 003 内部问题升级].
// Levels run 1 (most severe) to 3. Each dimension that applies proposes a level; the most severe
// wins (从严); repeats raise it; a level once given is never lowered.

import { addWorkingDayDuration, type BusinessCalendar } from './calendar';
import {
  HOUR_MS,
  type IsoInstant,
  civilFromDayNumber,
  dayNumberFromCivil,
  daysInMonth,
  formatShanghai,
  parseInstant,
  shanghaiDayNumber,
  shanghaiInstantMs,
} from './time';

export type IncidentLevel = 1 | 2 | 3;
export type CustomerClass = 'A' | 'B' | 'C';
/** The product lines of the master data; a network-management system ('nms') is graded by table 6 (and the common rules) only. */
export const PRODUCT_FAMILIES = ['network', 'storage', 'server', 'nms'] as const;
export type ProductFamily = (typeof PRODUCT_FAMILIES)[number];
export type DataImportance = 'critical_database_or_financial' | 'important_files';
export type FireDevice = 'box' | 'chassis';

export const SECURITY_INCIDENT_KINDS = [
  'user_content_deleted',
  'user_content_modified',
  'user_content_leaked',
  'personal_data_deleted',
  'personal_data_modified',
  'personal_data_leaked',
  'network_data_deleted',
  'network_data_modified',
  'network_data_leaked',
  'attack_from_our_product',
] as const;
export type SecurityIncidentKind = (typeof SECURITY_INCIDENT_KINDS)[number];

export interface NmsOutage {
  /** Hours the whole network-management service was down. */
  allNmsDownHours?: number | undefined;
  /** Share (0-100) of network elements whose maintenance (alarms, traffic statistics, northbound) was down. */
  elementMaintenanceDownPercent?: number | undefined;
  /** Hours that element maintenance was down. */
  elementMaintenanceDownHours?: number | undefined;
}

/** A previous occurrence the caller knows about (same customer, or same device). */
export interface PriorOccurrence {
  incidentId: string;
  customerId: string;
  siteId: string;
  productId: string;
  /** The device; when absent the customer + site + product identify it. */
  deviceId?: string | undefined;
  /** A normalised symptom or cause code: "the same symptom" means equal codes. */
  symptom: string;
  occurredAt: IsoInstant;
  recoveredAt?: IsoInstant | null | undefined;
  level: IncidentLevel;
}

export interface IncidentGradingInput {
  customerClass: CustomerClass;
  productFamily: ProductFamily;
  /** Network products: users affected, when it can be estimated (table 1). */
  affectedUsers?: number | undefined;
  /** Share (0-100) of the system's service lost; 100 is a total outage (tables 2-4). */
  serviceLostPercent?: number | undefined;
  /** Servers: a whole chassis or two or more devices failed (table 4 applies only then). */
  serverChassisOrMultipleDevices?: boolean | undefined;
  /** Unrecoverable data loss (whole chassis or all disks of a system failed at once), by the data's importance (table 5). */
  unrecoverableDataLoss?: DataImportance | null | undefined;
  nmsOutage?: NmsOutage | null | undefined;
  securityIncidents?: readonly SecurityIncidentKind[] | undefined;
  fire?: FireDevice | null | undefined;
  customerStronglyDissatisfied?: boolean | undefined;
  /** The level already given to this incident: the result is never below it. */
  currentLevel?: IncidentLevel | null | undefined;
  /** Identity and time of this occurrence; needed only for the repeat rules. */
  occurrence?:
    | {
        customerId: string;
        siteId: string;
        productId: string;
        deviceId?: string | undefined;
        symptom: string;
        occurredAt: IsoInstant;
      }
    | undefined;
  history?: readonly PriorOccurrence[] | undefined;
}

export interface GradingRule {
  code: string;
  /** The level this rule proposes, or for a raise, the level after raising. */
  level: IncidentLevel;
  en: string;
  zh: string;
}

export interface GradingResult {
  /** False when no rule makes this an incident. */
  isIncident: boolean;
  level: IncidentLevel | null;
  /** 'new': open a new incident; 'continuation': record it on `continuesIncidentId` (same symptom within 24 h of recovery). */
  outcome: 'new' | 'continuation' | 'not_an_incident';
  continuesIncidentId: string | null;
  /** Every rule that matched, the deciding ones included, in the order applied. */
  rules: GradingRule[];
}

const LEVEL_ZH: Record<IncidentLevel, string> = { 1: '一级', 2: '二级', 3: '三级' };

function raise(level: IncidentLevel): IncidentLevel {
  return level === 1 ? 1 : ((level - 1) as IncidentLevel);
}

function mostSevere(levels: readonly IncidentLevel[]): IncidentLevel | null {
  return levels.length === 0 ? null : (Math.min(...levels) as IncidentLevel);
}

/** Table 1, network products by affected users. Columns: > 8000, 5000-8000, 3000-5000, 400-3000. */
export const NETWORK_USERS_TABLE: Readonly<Record<CustomerClass, readonly [IncidentLevel, IncidentLevel, IncidentLevel, IncidentLevel]>> = Object.freeze({
  A: [1, 1, 2, 3],
  B: [1, 2, 3, 3],
  C: [2, 3, 3, 3],
});

/** Tables 2-4 by share of service lost. Columns: total outage, > 70 %, 30-70 %. Class C appears only for network products. */
export const SERVICE_SHARE_TABLE: Readonly<Record<CustomerClass, readonly [IncidentLevel, IncidentLevel, IncidentLevel]>> = Object.freeze({
  A: [1, 2, 3],
  B: [2, 3, 3],
  C: [3, 3, 3],
});

/** Table 6: network-management outage. */
export const NMS_TABLE: Readonly<Record<'A' | 'B', { E1: IncidentLevel; E2: IncidentLevel }>> = Object.freeze({
  A: { E1: 2, E2: 3 },
  B: { E1: 3, E2: 3 },
});

const USER_COLUMNS = ['more than 8000', '5000-8000', '3000-5000', '400-3000'] as const;
const USER_COLUMNS_ZH = ['8000以上', '5000~8000', '3000~5000', '400~3000'] as const;

/**
 * Column of table 1. The printed bands share their end points (5000-8000, 3000-5000); read with
 * the strictness principle (从严), a shared end point falls into the more severe band, while
 * "> 8000" keeps exactly 8000 in 5000-8000.
 */
export function affectedUsersColumn(users: number): 0 | 1 | 2 | 3 | null {
  if (users > 8000) return 0;
  if (users >= 5000) return 1;
  if (users >= 3000) return 2;
  if (users >= 400) return 3;
  return null;
}

const SHARE_COLUMNS = ['total outage', 'more than 70 % of service lost', '30-70 % of service lost'] as const;
const SHARE_COLUMNS_ZH = ['全部业务中断', '部分业务中断(70%以上)', '部分业务中断(30%~70%)'] as const;

/** Column of tables 2-4: 100 is total, (70, 100) is "> 70 %", [30, 70] is "30-70 %"; below 30 % no level. */
export function serviceShareColumn(percent: number): 0 | 1 | 2 | null {
  if (percent >= 100) return 0;
  if (percent > 70) return 1;
  if (percent >= 30) return 2;
  return null;
}

/** E1: all NMS down > 24 h, or >= 70 % of element maintenance down > 48 h. E2: 12-24 h, or 24-48 h. */
export function nmsOutageType(outage: NmsOutage): 'E1' | 'E2' | null {
  const all = outage.allNmsDownHours ?? 0;
  const widespread = (outage.elementMaintenanceDownPercent ?? 0) >= 70;
  const elementHours = widespread ? (outage.elementMaintenanceDownHours ?? 0) : 0;
  if (all > 24 || elementHours > 48) return 'E1';
  if (all >= 12 || elementHours >= 24) return 'E2';
  return null;
}

function validateInput(input: IncidentGradingInput): void {
  if (!['A', 'B', 'C'].includes(input.customerClass)) throw new RangeError(`customerClass must be A, B or C`);
  if (!(PRODUCT_FAMILIES as readonly string[]).includes(input.productFamily)) throw new RangeError(`productFamily must be one of ${PRODUCT_FAMILIES.join(', ')}`);
  const nonNegative = (name: string, value: number | undefined) => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) throw new RangeError(`${name} must be a number >= 0`);
  };
  nonNegative('affectedUsers', input.affectedUsers);
  nonNegative('serviceLostPercent', input.serviceLostPercent);
  if (input.serviceLostPercent !== undefined && input.serviceLostPercent > 100) throw new RangeError('serviceLostPercent must be at most 100');
  nonNegative('nmsOutage.allNmsDownHours', input.nmsOutage?.allNmsDownHours);
  nonNegative('nmsOutage.elementMaintenanceDownPercent', input.nmsOutage?.elementMaintenanceDownPercent);
  nonNegative('nmsOutage.elementMaintenanceDownHours', input.nmsOutage?.elementMaintenanceDownHours);
}

/** The levels each dimension proposes, before the repeat rules. */
function dimensionRules(input: IncidentGradingInput): GradingRule[] {
  const rules: GradingRule[] = [];
  const cls = input.customerClass;

  const usersKnown = input.productFamily === 'network' && input.affectedUsers !== undefined;
  if (usersKnown) {
    const column = affectedUsersColumn(input.affectedUsers!);
    if (column !== null) {
      const level = NETWORK_USERS_TABLE[cls][column];
      rules.push({
        code: 'network_affected_users',
        level,
        en: `network product, class ${cls} customer, ${input.affectedUsers} users affected (${USER_COLUMNS[column]}): level ${level}`,
        zh: `泛网络类产品,${cls}类客户,影响用户数${input.affectedUsers}(${USER_COLUMNS_ZH[column]}):${LEVEL_ZH[level]}事故`,
      });
    }
  }

  if (input.serviceLostPercent !== undefined && !usersKnown) {
    const column = serviceShareColumn(input.serviceLostPercent);
    const shareApplies =
      input.productFamily === 'network' ||
      input.productFamily === 'storage' ||
      (input.productFamily === 'server' && input.serverChassisOrMultipleDevices === true);
    // Tables 3 and 4 (storage, servers) have no class C row.
    const classApplies = input.productFamily === 'network' || cls !== 'C';
    if (column !== null && shareApplies && classApplies) {
      const level = SERVICE_SHARE_TABLE[cls][column];
      const what =
        input.productFamily === 'network'
          ? { en: 'network product (users unknown)', zh: '泛网络类产品(无法估算影响用户数)', code: 'network_service_share' }
          : input.productFamily === 'storage'
            ? { en: 'storage product', zh: '存储类产品', code: 'storage_service_share' }
            : { en: 'servers, whole chassis or two or more devices failed', zh: '服务器产品,整框或两台以上设备故障', code: 'server_service_share' };
      rules.push({
        code: what.code,
        level,
        en: `${what.en}, class ${cls} customer, ${SHARE_COLUMNS[column]} (${input.serviceLostPercent} %): level ${level}`,
        zh: `${what.zh},${cls}类客户,${SHARE_COLUMNS_ZH[column]}(${input.serviceLostPercent}%):${LEVEL_ZH[level]}事故`,
      });
    }
  }

  if (input.unrecoverableDataLoss === 'critical_database_or_financial') {
    rules.push({ code: 'data_loss_critical', level: 1, en: 'unrecoverable loss of a critical database or financial data: level 1', zh: '至关重要数据库、金融数据等无法恢复:一级事故' });
  } else if (input.unrecoverableDataLoss === 'important_files') {
    rules.push({ code: 'data_loss_important_files', level: 2, en: 'unrecoverable loss of important files or documents: level 2', zh: '重要的文件/文档无法恢复:二级事故' });
  }

  if (input.nmsOutage) {
    const type = nmsOutageType(input.nmsOutage);
    if (type !== null && cls !== 'C') {
      const level = NMS_TABLE[cls][type];
      rules.push({
        code: `nms_outage_${type.toLowerCase()}`,
        level,
        en: `network-management outage ${type}, class ${cls} customer: level ${level}`,
        zh: `网管故障${type},${cls}类客户:${LEVEL_ZH[level]}事故`,
      });
    }
  }

  for (const kind of input.securityIncidents ?? []) {
    if (!(SECURITY_INCIDENT_KINDS as readonly string[]).includes(kind)) throw new RangeError(`unknown security incident kind ${String(kind)}`);
    rules.push({ code: `security_${kind}`, level: 2, en: `customer-data security incident (${kind.replaceAll('_', ' ')}): level 2`, zh: `客户数据安全事故(${kind}):二级事故` });
  }

  if (input.fire === 'chassis') {
    rules.push({ code: 'fire_chassis', level: 1, en: 'open fire in a chassis device: level 1', zh: '框式设备起明火:一级事故' });
  } else if (input.fire === 'box') {
    rules.push({ code: 'fire_box', level: 2, en: 'open fire in a box device: level 2', zh: '盒子类设备起明火:二级事故' });
  }

  if (rules.length === 0 && input.customerStronglyDissatisfied === true) {
    rules.push({
      code: 'strong_dissatisfaction',
      level: 3,
      en: 'below every threshold but the customer is strongly dissatisfied: level 3',
      zh: '未达到事故标准但引起客户强烈不满:三级事故',
    });
  }
  return rules;
}

/** The same wall-clock time and day three months earlier (clamped to that month's last day), in Shanghai time. */
function threeMonthsBeforeMs(ms: number): number {
  const dayNum = shanghaiDayNumber(ms);
  const intoDay = ms - shanghaiInstantMs(dayNum, 0);
  const [year, month, day] = civilFromDayNumber(dayNum);
  const monthIndex = year * 12 + (month - 1) - 3;
  const targetYear = Math.floor(monthIndex / 12);
  const targetMonth = monthIndex - targetYear * 12 + 1;
  return shanghaiInstantMs(dayNumberFromCivil(targetYear, targetMonth, Math.min(day, daysInMonth(targetYear, targetMonth))), intoDay);
}

const RECURRENCE_WINDOW_MS = 24 * HOUR_MS;

export function gradeIncident(input: IncidentGradingInput): GradingResult {
  validateInput(input);
  const rules = dimensionRules(input);
  let level = mostSevere(rules.map((rule) => rule.level));
  let outcome: GradingResult['outcome'] = level === null ? 'not_an_incident' : 'new';
  let continuesIncidentId: string | null = null;

  const occurrence = input.occurrence;
  const history = input.history ?? [];
  let chainIncidentId: string | null = null;
  if (occurrence && history.length > 0) {
    const nowMs = parseInstant(occurrence.occurredAt);
    const sameDevice = (prior: PriorOccurrence) =>
      prior.customerId === occurrence.customerId &&
      prior.siteId === occurrence.siteId &&
      prior.productId === occurrence.productId &&
      (prior.deviceId ?? null) === (occurrence.deviceId ?? null);

    // Recurrence: the same symptom on the same device within 24 h of the latest recovery.
    const recovered = history
      .filter((prior) => sameDevice(prior) && prior.symptom === occurrence.symptom && prior.recoveredAt)
      .map((prior) => ({ prior, recoveredMs: parseInstant(prior.recoveredAt!) }))
      .filter(({ recoveredMs }) => recoveredMs <= nowMs && nowMs - recoveredMs <= RECURRENCE_WINDOW_MS)
      .sort((a, b) => b.recoveredMs - a.recoveredMs)[0];
    if (recovered) {
      const chain = recovered.prior;
      chainIncidentId = chain.incidentId;
      const occurrencesSoFar = history.filter((prior) => prior.incidentId === chain.incidentId).length;
      const chainLevel = mostSevere(history.filter((prior) => prior.incidentId === chain.incidentId).map((prior) => prior.level))!;
      if (occurrencesSoFar < 2) {
        outcome = 'continuation';
        continuesIncidentId = chain.incidentId;
        level = mostSevere(level === null ? [chainLevel] : [level, chainLevel]);
        rules.push({
          code: 'recurrence_within_24h_continues',
          level: level!,
          en: `same symptom again within 24 h of recovery: continues incident ${chain.incidentId} (level ${level})`,
          zh: `恢复后24小时内同样现象再次发生:在原事故${chain.incidentId}上续报(${LEVEL_ZH[level!]})`,
        });
      } else {
        outcome = 'new';
        const base = mostSevere(level === null ? [chainLevel] : [level, chainLevel])!;
        level = raise(base);
        rules.push({
          code: 'recurrence_third_occurrence',
          level,
          en: `third occurrence of the same symptom within 24 h of recovery: a new incident, one level above incident ${chain.incidentId} (level ${level})`,
          zh: `同样现象第三次发生:重新提交问题单,级别在原事故${chain.incidentId}基础上升一级(${LEVEL_ZH[level]})`,
        });
      }
    }

    // Repeat: the same customer, site and product had an incident within the previous 3 months.
    if (outcome === 'new' && level !== null && chainIncidentId === null) {
      const windowStartMs = threeMonthsBeforeMs(nowMs);
      const earlier = history.find((prior) => {
        if (prior.customerId !== occurrence.customerId || prior.siteId !== occurrence.siteId || prior.productId !== occurrence.productId) return false;
        const priorMs = parseInstant(prior.occurredAt);
        return priorMs >= windowStartMs && priorMs < nowMs;
      });
      if (earlier) {
        const before = level;
        level = raise(level);
        rules.push({
          code: 'repeat_within_3_months',
          level,
          en:
            before === 1
              ? `same customer, site and product had incident ${earlier.incidentId} within 3 months: raised one level, level 1 stays 1`
              : `same customer, site and product had incident ${earlier.incidentId} within 3 months: raised from level ${before} to ${level}`,
          zh: `三个月内同一客户、同一局点、同一产品事故重复出现(${earlier.incidentId}):级别升一级(${LEVEL_ZH[level]})`,
        });
      }
    }
  }

  if (input.currentLevel != null && (level === null || input.currentLevel < level)) {
    level = input.currentLevel;
    if (outcome === 'not_an_incident') outcome = 'new';
    rules.push({
      code: 'never_lowered',
      level,
      en: `already graded level ${input.currentLevel}: a level is never lowered`,
      zh: `已定为${LEVEL_ZH[input.currentLevel]}事故:事故级别不允许向下调整`,
    });
  }

  return { isIncident: level !== null, level, outcome, continuesIncidentId, rules };
}

// ---------------------------------------------------------------------------------------------
// Escalation ladder [003 内部问题升级 1.1.1-1.1.2]

export type LadderLevel = 1 | 2 | 3 | 4;

export interface EscalationState {
  ladderLevel: LadderLevel;
  /** When the case entered its current ladder level. */
  levelEnteredAt: IsoInstant;
  /** Level 2: when the senior engineer arrived on site (the 4 h clock starts then). */
  arrivedOnSiteAt?: IsoInstant | null | undefined;
  restored?: boolean | undefined;
}

export interface LadderStep {
  level: LadderLevel;
  who: { en: string; zh: string };
  actions: string[];
}

export const ESCALATION_LADDER: Readonly<Record<LadderLevel, LadderStep>> = Object.freeze({
  1: { level: 1, who: { en: 'service engineer, by phone and remote login', zh: '专职服务工程师,电话及远程登录支持' }, actions: ['phone_support', 'remote_login'] },
  2: { level: 2, who: { en: 'senior engineer, on site', zh: '高级工程师指导,现场解决' }, actions: ['senior_engineer_on_site'] },
  3: {
    level: 3,
    who: { en: 'expert group (host, network, database, application); chief engineer informed', zh: '专家服务小组紧急抢修(主机、网络、数据库、应用),报告主任工程师' },
    actions: ['form_expert_group', 'inform_chief_engineer'],
  },
  4: {
    level: 4,
    who: {
      en: "technical director on site with the vendor's most senior engineers; a standby unit of the same class replaces the failed one and is switched back after the fix",
      zh: '技术总监到现场,协调厂家最资深技术工程师;提供同档次备机替代故障机,故障排除后切换回备机',
    },
    actions: ['technical_director_on_site', 'call_vendor_senior_engineers', 'install_standby_unit', 'switch_back_after_fix'],
  },
});

export interface EscalationDecision {
  current: LadderStep;
  /** The level to move to when `escalateAt` passes unrestored; null at level 4 or once restored. */
  next: LadderStep | null;
  /** null when nothing is due: restored, at level 4, or level 2 waiting for arrival on site. */
  escalateAt: IsoInstant | null;
  provisional: boolean;
  reason: { en: string; zh: string };
}

/**
 * When the case moves up the ladder if still not restored:
 * level 1 -> 2 two hours after entering level 1 (phone and remote);
 * level 2 -> 3 four hours after the senior engineer arrived on site;
 * level 3 -> 4 one working day after entering level 3 (24 h counted only on working days, see
 * addWorkingDayDuration); level 4 is the top.
 */
export function nextEscalation(calendar: BusinessCalendar, state: EscalationState): EscalationDecision {
  const current = ESCALATION_LADDER[state.ladderLevel];
  if (current === undefined) throw new RangeError(`ladderLevel must be 1, 2, 3 or 4`);
  const enteredMs = parseInstant(state.levelEnteredAt);
  if (state.restored === true) {
    return { current, next: null, escalateAt: null, provisional: false, reason: { en: 'service restored: no further escalation', zh: '业务已恢复,不再升级' } };
  }
  switch (state.ladderLevel) {
    case 1:
      return {
        current,
        next: ESCALATION_LADDER[2],
        escalateAt: formatShanghai(enteredMs + 2 * HOUR_MS),
        provisional: false,
        reason: { en: 'not solved by phone and remote support within 2 h', zh: '电话、远程登录支持2小时内不能解决' },
      };
    case 2: {
      if (!state.arrivedOnSiteAt) {
        return {
          current,
          next: ESCALATION_LADDER[3],
          escalateAt: null,
          provisional: false,
          reason: { en: 'the 4 h clock starts when the engineer arrives on site', zh: '到达现场后开始计时4小时' },
        };
      }
      return {
        current,
        next: ESCALATION_LADDER[3],
        escalateAt: formatShanghai(parseInstant(state.arrivedOnSiteAt) + 4 * HOUR_MS),
        provisional: false,
        reason: { en: 'not solved 4 h after arriving on site', zh: '到达现场4小时内尚未解决' },
      };
    }
    case 3: {
      const dueMs = addWorkingDayDuration(calendar, enteredMs, 1);
      const missingYears = calendar.missingYearsBetween(shanghaiDayNumber(enteredMs), shanghaiDayNumber(dueMs - 1));
      return {
        current,
        next: ESCALATION_LADDER[4],
        escalateAt: formatShanghai(dueMs),
        provisional: missingYears.length > 0,
        reason: { en: 'not solved within 1 working day', zh: '1个工作日内仍不能解决' },
      };
    }
    default:
      return { current, next: null, escalateAt: null, provisional: false, reason: { en: 'top of the ladder', zh: '已为最高级' } };
  }
}
