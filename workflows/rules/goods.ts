// Goods problems and warranty [004 11 货物问题处理, 12.2.3-12.2.4]: DOA acceptance, claim windows
// for transport damage and wrong/missing/extra goods, and the warranty of a replacement part.

import { HOUR_MS, type IsoDate, type IsoInstant, dayNumber, endOfShanghaiDayMs, formatShanghai, isoDateFromDayNumber, parseInstant, shanghaiDayNumber } from './time';

export const PACKAGING_DEFECTS = ['torn', 'holed', 'damp', 'collapsed', 'dented'] as const;
export type PackagingDefect = (typeof PACKAGING_DEFECTS)[number];

export interface DoaApplication {
  firstPowerOnAt: IsoInstant;
  /** When the fault appeared; equal to firstPowerOnAt when the unit failed at first power-on. */
  failedAt: IsoInstant;
  appliedByEndUser: boolean;
  applicationFormProvided: boolean;
  photosProvided: boolean;
  isTestProductOrSample: boolean;
  originalPackagingProvided: boolean;
  packagingDefects: readonly PackagingDefect[];
  /** Foam, plastic bags and the rest of the packing materials. */
  packingMaterialsComplete: boolean;
  accessoriesCompleteAgainstPackingList: boolean;
  physicalDamage: boolean;
  sealsUnbroken: boolean;
  labelsComplete: boolean;
  originalHardwareAndPreinstalledSoftware: boolean;
}

export type DoaConditionCode =
  | 'not_within_48h_of_power_on'
  | 'not_applied_by_end_user'
  | 'application_form_missing'
  | 'photos_missing'
  | 'test_product_or_sample'
  | 'original_packaging_missing'
  | 'packaging_damaged'
  | 'packing_materials_incomplete'
  | 'accessories_incomplete'
  | 'physical_damage'
  | 'seals_broken'
  | 'labels_incomplete'
  | 'hardware_or_software_not_original';

export interface FailedCondition {
  code: DoaConditionCode;
  en: string;
  zh: string;
}

export interface DoaDecision {
  eligible: boolean;
  /** Every condition that failed, in the order of [004 11.2.1]. */
  failedConditions: FailedCondition[];
  /** Accepted: a new unit, not a repair. Rejected: the reasons and the offer to repair it under RMA. */
  remedy: 'replace_with_new_unit' | 'offer_rma_repair';
  /** Physical damage is the carrier's to compensate: claim against the carrier. */
  carrierClaimAdvised: boolean;
  hoursFromPowerOnToFailure: number;
}

export const DOA_WINDOW_HOURS = 48;

/**
 * DOA: no visible damage, and the unit fails at first power-on or within 48 h of running
 * (48 h exactly is still inside). Accepted only when every condition holds; every failed one is
 * returned, not just the first.
 */
export function assessDoa(application: DoaApplication): DoaDecision {
  const powerOnMs = parseInstant(application.firstPowerOnAt);
  const failedMs = parseInstant(application.failedAt);
  const hours = (failedMs - powerOnMs) / HOUR_MS;
  const failed: FailedCondition[] = [];
  const check = (holds: boolean, code: DoaConditionCode, en: string, zh: string) => {
    if (!holds) failed.push({ code, en, zh });
  };
  check(
    hours >= 0 && hours <= DOA_WINDOW_HOURS,
    'not_within_48h_of_power_on',
    hours < 0
      ? 'the failure is dated before the first power-on'
      : `the fault appeared ${Math.round(hours * 10) / 10} h after first power-on, beyond the 48 h DOA window`,
    hours < 0 ? '故障时间早于首次上电时间' : `故障发生在首次上电后${Math.round(hours * 10) / 10}小时,超过48小时`,
  );
  check(application.appliedByEndUser, 'not_applied_by_end_user', 'only the end user can apply for DOA', '只接受最终用户的申请');
  check(application.applicationFormProvided, 'application_form_missing', 'the goods-problem application form is missing', '未提供货物问题申请表');
  check(application.photosProvided, 'photos_missing', 'photos of the faulty equipment are missing', '未提供货物问题设备照片');
  check(!application.isTestProductOrSample, 'test_product_or_sample', 'test products and samples are not eligible', '测试产品或样机不适用DOA');
  check(application.originalPackagingProvided, 'original_packaging_missing', 'the original outer box and packing materials must be returned', '必须提供原外包装箱和包装材料');
  const defects = application.packagingDefects ?? [];
  for (const defect of defects) {
    if (!(PACKAGING_DEFECTS as readonly string[]).includes(defect)) throw new RangeError(`unknown packaging defect ${String(defect)}`);
  }
  check(
    defects.length === 0,
    'packaging_damaged',
    `the original box is not intact (${defects.join(', ')})`,
    `原外包装箱不完好(${defects.join('、')})`,
  );
  check(application.packingMaterialsComplete, 'packing_materials_incomplete', 'packing materials (foam, plastic bags) are incomplete', '包装材料不完整(泡沫塑料及塑料袋)');
  check(application.accessoriesCompleteAgainstPackingList, 'accessories_incomplete', 'accessories are incomplete against the packing list', '随机附件不完整(以装箱清单为准)');
  check(!application.physicalDamage, 'physical_damage', 'the product is physically damaged: claim against the carrier instead', '产品有物理损伤,请联系运输商索赔');
  check(application.sealsUnbroken, 'seals_broken', 'seals on the unit have been opened', '主机封条已启封');
  check(application.labelsComplete, 'labels_incomplete', 'labels on the unit are incomplete', '机体标签不完整');
  check(
    application.originalHardwareAndPreinstalledSoftware,
    'hardware_or_software_not_original',
    'the hardware, preinstalled software (operating system) or drivers are not as shipped',
    '非原厂装配的硬件、预装软件(操作系统)和驱动程序',
  );
  return {
    eligible: failed.length === 0,
    failedConditions: failed,
    remedy: failed.length === 0 ? 'replace_with_new_unit' : 'offer_rma_repair',
    carrierClaimAdvised: application.physicalDamage,
    hoursFromPowerOnToFailure: hours,
  };
}

export type GoodsClaimKind = 'transport_damage' | 'wrong_missing_extra';

export const CLAIM_WINDOW_DAYS: Readonly<Record<GoodsClaimKind, number>> = Object.freeze({ transport_damage: 14, wrong_missing_extra: 30 });

export const CLAIM_EVIDENCE: Readonly<Record<GoodsClaimKind, readonly string[]>> = Object.freeze({
  transport_damage: [
    'goods-problem application form',
    'packing list number',
    'damaged or lost box number',
    'material code',
    'quantity',
    'device serial number',
    'clear photos of the damaged item and close-ups of the damage',
    'clear photos of all six sides of the inner and outer packaging',
    'delivery note marked damaged or lost',
    'tilt/shock labels',
  ],
  wrong_missing_extra: [
    'goods-problem application form',
    'sales contract and order number',
    'packing list number',
    'box number of the wrong goods',
    'material code',
    'quantity',
    'device serial number',
    'clear photos of all six sides of the inner and outer packaging',
    'clear photo of the original factory seal label',
  ],
});

export interface ClaimWindowDecision {
  kind: GoodsClaimKind;
  arrivedOn: IsoDate;
  /** The last day a claim is accepted: arrival day + 14 (or + 30) calendar days. */
  lastDay: IsoDate;
  deadlineAt: IsoInstant;
  /** Calendar days from the arrival date to the claim date (arrival day = 0). */
  dayOfClaim: number;
  withinWindow: boolean;
  requiredEvidence: string[];
  rule: { en: string; zh: string };
}

/**
 * Transport damage: within 14 days of arrival; wrong, missing or extra goods: within 30 days.
 * Day 1 is the day after arrival; a claim dated on day 14 (30) is accepted, on day 15 (31) refused.
 * Only the end user can claim, and transport damage only when we carried the goods.
 */
export function claimWindow(kind: GoodsClaimKind, arrivedOn: IsoDate, claimedAt: IsoInstant): ClaimWindowDecision {
  const days = CLAIM_WINDOW_DAYS[kind];
  if (days === undefined) throw new RangeError(`unknown claim kind ${String(kind)}; expected transport_damage or wrong_missing_extra`);
  const arrivalDay = dayNumber(arrivedOn);
  const claimDay = shanghaiDayNumber(parseInstant(claimedAt));
  const dayOfClaim = claimDay - arrivalDay;
  return {
    kind,
    arrivedOn,
    lastDay: isoDateFromDayNumber(arrivalDay + days),
    deadlineAt: formatShanghai(endOfShanghaiDayMs(arrivalDay + days)),
    dayOfClaim,
    withinWindow: dayOfClaim >= 0 && dayOfClaim <= days,
    requiredEvidence: [...CLAIM_EVIDENCE[kind]],
    rule:
      kind === 'transport_damage'
        ? { en: 'transport damage: claim within 14 days of arrival on site', zh: '货损申报时间为货到现场后14天内' }
        : { en: 'wrong, missing or extra goods: claim within 30 days of arrival', zh: '差错货申报时间为到货后30天内' },
  };
}

export const REPLACEMENT_WARRANTY_DAYS = 90;

export interface ReplacementWarranty {
  /** The last day of cover. */
  endsOn: IsoDate;
  basis: 'ninety_days_from_shipping' | 'rest_of_original_warranty';
  ninetyDaysEndOn: IsoDate;
  originalWarrantyEndsOn: IsoDate | null;
  rule: { en: string; zh: string };
}

/**
 * A replaced or repaired part is covered for 90 days from shipping (last day = shipping date + 90)
 * or for the rest of the original warranty, whichever ends later [004 12.2.3].
 */
export function replacementWarranty(shippedOn: IsoDate, originalWarrantyEndsOn: IsoDate | null): ReplacementWarranty {
  const ninetyDaysEnd = dayNumber(shippedOn) + REPLACEMENT_WARRANTY_DAYS;
  const originalEnd = originalWarrantyEndsOn === null ? null : dayNumber(originalWarrantyEndsOn);
  const endDay = originalEnd !== null && originalEnd > ninetyDaysEnd ? originalEnd : ninetyDaysEnd;
  const original = endDay !== ninetyDaysEnd;
  return {
    endsOn: isoDateFromDayNumber(endDay),
    basis: original ? 'rest_of_original_warranty' : 'ninety_days_from_shipping',
    ninetyDaysEndOn: isoDateFromDayNumber(ninetyDaysEnd),
    originalWarrantyEndsOn,
    rule: original
      ? { en: 'the rest of the original warranty is longer than 90 days from shipping', zh: '原有剩余维保期长于90天,以原维保期为准' }
      : { en: '90 days from shipping is longer than the rest of the original warranty', zh: '自发货之日起90天维保,长于原有剩余维保期' },
  };
}
