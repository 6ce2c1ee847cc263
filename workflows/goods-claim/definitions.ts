// Goods claims (P5: transport damage; wrong, missing or extra goods): the workflow's input, state,
// statuses, signals and updates, shared with the API. Only types, pure helpers and define* constants
// here: this module is bundled into workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { GoodsClaimKind } from '../rules/goods';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';
import type { ClaimIdentifiers } from './evidence';

export const GOODS_CLAIM_KINDS = ['transport_damage', 'wrong_missing_extra'] as const satisfies readonly GoodsClaimKind[];

export const GOODS_CLAIM_STATUSES = [
  // Committed by registration; the workflow's first step checks the evidence and moves it on.
  'registered',
  'evidence_requested',
  'resolution',
  'replacement_shipped',
  'credited',
  'refused',
  'lapsed',
] as const;
export type GoodsClaimStatus = (typeof GOODS_CLAIM_STATUSES)[number];

export const GOODS_CLAIM_FINAL_STATUSES: readonly GoodsClaimStatus[] = ['replacement_shipped', 'credited', 'refused', 'lapsed'];
export const GOODS_CLAIM_OPEN_STATUSES: readonly GoodsClaimStatus[] = GOODS_CLAIM_STATUSES.filter((status) => !GOODS_CLAIM_FINAL_STATUSES.includes(status));

/** How the desk resolves a complete claim, and the status each outcome closes the claim in. */
export const GOODS_CLAIM_OUTCOMES = ['replacement', 'credit', 'refusal'] as const;
export type GoodsClaimOutcome = (typeof GOODS_CLAIM_OUTCOMES)[number];
export const STATUS_OF_OUTCOME: Readonly<Record<GoodsClaimOutcome, GoodsClaimStatus>> = {
  replacement: 'replacement_shipped',
  credit: 'credited',
  refusal: 'refused',
};

/** Each human step of a claim: the statuses it may start from (declared once: the workflow checks them). */
export const GOODS_CLAIM_STEPS = {
  provideIdentifiers: { from: ['registered', 'evidence_requested', 'resolution'], action: 'record identifiers' },
  resolve: { from: ['resolution'], action: 'resolve the claim' },
} as const satisfies Record<string, StepRule<GoodsClaimStatus>>;

/** The customer is chased this many working days after the evidence was requested (09:00 China time of the next working day). */
export const EVIDENCE_CHASE_WORKING_DAYS = 3;

export interface GoodsClaimInput {
  caseId: string;
  claimNumber: string;
  /** End of the claim window (claimWindow().deadlineAt), recorded at registration: an incomplete claim lapses then. */
  deadlineAt: string;
}

/** What a check of the evidence found, as the activity that owns completeness computed it. */
export interface EvidenceCheck {
  status: GoodsClaimStatus;
  missing: string[];
  /** Set when the check asked the customer for evidence: when they are chased if still incomplete. */
  chaseAt: string | null;
}

export interface GoodsClaimState {
  claimNumber: string;
  status: GoodsClaimStatus;
  deadlineAt: string;
  /** The required evidence still missing at the last check. */
  missing: string[];
  chaseAt: string | null;
  chasedAt: string | null;
  lapsedAt: string | null;
  /** Evidence-arrived signals received, and how many of them a check has covered. */
  evidenceSignals: number;
  /** Identifier changes recorded: each one's number keys its audit entry. */
  identifierChanges?: number;
}

export interface IdentifiersInput extends ActorStamp {
  identifiers: ClaimIdentifiers;
}

export type ResolutionInput = ActorStamp &
  (
    | { outcome: 'replacement'; carrier: string; trackingNumber: string; note: string | null }
    | { outcome: 'credit'; amountCents: number; note: string | null }
    | { outcome: 'refusal'; reason: string }
  );

export interface EvidenceAddedSignal {
  fileIds: string[];
}

export const goodsClaimStateQuery = defineQuery<GoodsClaimState>('goodsClaimState');
/** Evidence files were stored for the claim: the workflow checks completeness again. */
export const goodsClaimEvidenceAddedSignal = defineSignal<[EvidenceAddedSignal]>('goodsClaimEvidenceAdded');
export const provideGoodsClaimIdentifiersUpdate = defineUpdate<GoodsClaimState, [IdentifiersInput]>('provideGoodsClaimIdentifiers');
export const resolveGoodsClaimUpdate = defineUpdate<GoodsClaimState, [ResolutionInput]>('resolveGoodsClaim');

export function goodsClaimWorkflowId(claimNumber: string): string {
  return `goods/${claimNumber}`;
}
