// DOA claim (P5): the workflow's input, state, statuses, queries and updates, shared with the API.
// Only types, pure helpers and define* constants here: this module is bundled into workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DoaConditionCode, FailedCondition, PackagingDefect } from '../rules/goods';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

export const DOA_CLAIM_STATUSES = [
  'assessment',
  'replacement_approval',
  'replacement_shipping',
  'replacement_delivery',
  'unit_return',
  'conversion_offered',
  'converted',
  'closed',
] as const;
export type DoaClaimStatus = (typeof DOA_CLAIM_STATUSES)[number];

export const DOA_CLAIM_FINAL_STATUSES: readonly DoaClaimStatus[] = ['converted', 'closed'];
export const DOA_CLAIM_OPEN_STATUSES: readonly DoaClaimStatus[] = DOA_CLAIM_STATUSES.filter((status) => !DOA_CLAIM_FINAL_STATUSES.includes(status));

export const DOA_DECISIONS = ['accepted', 'rejected'] as const;
export type DoaDecisionOutcome = (typeof DOA_DECISIONS)[number];

/** What the customer did with the offer to repair a rejected unit under RMA. */
export const DOA_CONVERSION_ANSWERS = ['accepted', 'declined', 'lapsed'] as const;
export type DoaConversionAnswer = (typeof DOA_CONVERSION_ANSWERS)[number];

/** How long the offer to convert a rejected claim into an RMA repair stands. */
export const CONVERSION_OFFER_DAYS = 30;

/** Each human step of a claim: the statuses it may start from (declared once: the workflow checks them). */
export const DOA_CLAIM_STEPS = {
  checkConditions: { from: ['assessment'], action: 'record condition checks' },
  decide: { from: ['assessment'], action: 'decide the claim' },
  approveReplacement: { from: ['replacement_approval'], action: 'approve the replacement unit' },
  shipReplacement: { from: ['replacement_shipping'], action: 'ship the replacement unit' },
  confirmReceipt: { from: ['replacement_delivery'], action: 'confirm receipt of the replacement unit' },
  recordUnitReturn: { from: ['replacement_delivery', 'unit_return'], action: 'record the return of the DOA unit' },
  answerConversion: { from: ['conversion_offered'], action: 'answer the offer of an RMA repair' },
} as const satisfies Record<string, StepRule<DoaClaimStatus>>;

/**
 * The acceptance conditions the desk checks against the evidence [004 11.2.1], by the field of
 * `DoaApplication` (workflows/rules/goods.ts) each one fills. The 48-hour window and "applied by the
 * end user" come from the application itself.
 */
export const CHECKED_CONDITIONS = [
  'applicationFormProvided',
  'photosProvided',
  'isTestProductOrSample',
  'originalPackagingProvided',
  'packagingDefects',
  'packingMaterialsComplete',
  'accessoriesCompleteAgainstPackingList',
  'physicalDamage',
  'sealsUnbroken',
  'labelsComplete',
  'originalHardwareAndPreinstalledSoftware',
] as const;
export type CheckedCondition = (typeof CHECKED_CONDITIONS)[number];

/** What the desk found for one condition: a yes/no, or the packaging's defects (none: intact). */
export type ConditionFinding = boolean | readonly PackagingDefect[];

/** One condition as checked: what was found, by whom, when, with an optional note on the evidence. */
export interface ConditionCheck {
  value: ConditionFinding;
  checkedBy: string;
  checkedByRole: string;
  checkedAt: string;
  note: string | null;
}

export type ConditionChecks = Partial<Record<CheckedCondition, ConditionCheck>>;

export interface DoaClaimInput {
  caseId: string;
  caseNumber: string;
}

export const doaClaimWorkflowId = (caseNumber: string): string => `doa/${caseNumber}`;

export interface ConditionChecksInput extends ActorStamp {
  findings: Partial<Record<CheckedCondition, ConditionFinding>>;
  note?: string | null;
}
export interface DecideInput extends ActorStamp {
  comment?: string | null;
}
export interface ReplacementApprovalInput extends ActorStamp {
  approved: boolean;
  comment?: string | null;
}
export interface ShipReplacementInput extends ActorStamp {
  newSerial: string;
  carrier: string;
  trackingNumber: string;
}
export type ConfirmReceiptInput = ActorStamp;
export interface UnitReturnInput extends ActorStamp {
  receivedSerial: string;
  note?: string | null;
}
export interface ConversionAnswerInput extends ActorStamp {
  accept: boolean;
}

/** The decision as the activity computed it with `assessDoa` and recorded it. */
export interface DecisionRecord {
  outcome: DoaDecisionOutcome;
  failedConditions: FailedCondition[];
  carrierClaimAdvised: boolean;
}

export interface DoaClaimState {
  caseNumber: string;
  status: DoaClaimStatus;
  decision: DecisionRecord | null;
  /** The conditions still to be checked before a decision (the workflow refuses to decide without them). */
  uncheckedConditions: CheckedCondition[];
  replacementSerial: string | null;
  receiptConfirmedAt: string | null;
  unitReturnedAt: string | null;
  conversion: DoaConversionAnswer | null;
  conversionOfferEndsAt: string | null;
  rmaCaseNumber: string | null;
}

export const doaClaimStateQuery = defineQuery<DoaClaimState>('doaClaimState');
export const checkDoaConditionsUpdate = defineUpdate<DoaClaimState, [ConditionChecksInput]>('checkDoaConditions');
export const decideDoaClaimUpdate = defineUpdate<DoaClaimState, [DecideInput]>('decideDoaClaim');
export const approveDoaReplacementUpdate = defineUpdate<DoaClaimState, [ReplacementApprovalInput]>('approveDoaReplacement');
export const shipDoaReplacementUpdate = defineUpdate<DoaClaimState, [ShipReplacementInput]>('shipDoaReplacement');
export const confirmDoaReceiptUpdate = defineUpdate<DoaClaimState, [ConfirmReceiptInput]>('confirmDoaReceipt');
export const recordDoaUnitReturnUpdate = defineUpdate<DoaClaimState, [UnitReturnInput]>('recordDoaUnitReturn');
export const answerDoaConversionUpdate = defineUpdate<DoaClaimState, [ConversionAnswerInput]>('answerDoaConversion');

export type { DoaConditionCode, FailedCondition, PackagingDefect };
