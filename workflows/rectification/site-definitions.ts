// Batch rectification, one site (P3 step 3-6): the site child workflow's input, signals and result,
// shared with the customer child that starts it and with the API. Only types and define* constants
// here: bundled into workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

export interface RectificationSiteInput {
  campaignCaseId: string;
  campaignNumber: string;
  customerId: string;
  siteId: string;
  /** The devices of this campaign at this site that need a visit. */
  deviceIds: string[];
  /** The customer child: told of every device outcome. */
  parentWorkflowId: string;
  /** From the campaign's solution: the implementation plan needs R&D review. */
  highRisk: boolean;
}

export interface SiteDeviceOutcome {
  siteId: string;
  deviceIds: string[];
  outcome: 'rectified' | 'failed' | 'declined';
  at: string;
}

/** Sent by the site child to its customer child on every device outcome at the site. */
export const siteDeviceOutcomeSignal = defineSignal<[SiteDeviceOutcome]>('rectificationSiteDeviceOutcome');

export interface RectificationSiteResult {
  siteId: string;
  rectified: string[];
  declined: string[];
}

/**
 * picking: the work order is open, materials to pick; planning: the implementation plan goes through
 * its reviews and the customer's approval, and the slot waits to be proposed or confirmed (again after
 * a failed attempt); scheduled: plan signed and slot confirmed, waiting for the slot; in_progress: work
 * started in the slot; reporting: the rectification report waits for the customer's signature;
 * returning_parts: replaced parts on their way back; archived; declined: the customer refused the site
 * work (with proof) before it started.
 */
export const RECTIFICATION_SITE_STATUSES = ['picking', 'planning', 'scheduled', 'in_progress', 'reporting', 'returning_parts', 'archived', 'declined'] as const;
export type RectificationSiteStatus = (typeof RECTIFICATION_SITE_STATUSES)[number];
export const RECTIFICATION_SITE_FINAL_STATUSES: readonly RectificationSiteStatus[] = ['archived', 'declined'];

/** Why a slot was set: the first proposal, a desk's rescheduling (e.g. after a failed attempt), or the R&D review not finished by slot - 3 days. */
export const SLOT_MOVE_REASONS = ['proposed', 'rescheduled', 'rd_review_late'] as const;
export type SlotMoveReason = (typeof SLOT_MOVE_REASONS)[number];

/** A replaced part: taken back by the engineer (tracked until it is received) or kept by the customer for now (due back in 15 working days). */
export const PART_DISPOSITIONS = ['taken_back', 'kept_by_customer'] as const;
export type PartDisposition = (typeof PART_DISPOSITIONS)[number];
export const RETURNED_PART_STATUSES = ['in_transit', 'with_customer', 'received'] as const;
export type ReturnedPartStatus = (typeof RETURNED_PART_STATUSES)[number];

/** A high-risk plan's R&D review must be finished this long before the slot starts. */
export const RD_REVIEW_LEAD_MS = 3 * 24 * 3_600_000;

export const RECTIFICATION_SITE_STEPS = {
  pickMaterials: { from: ['picking'], action: 'record the materials picked' },
  proposeSlot: { from: ['planning', 'scheduled'], action: 'propose a slot' },
  confirmSlot: { from: ['planning', 'scheduled'], action: 'confirm the slot' },
  startImplementation: { from: ['scheduled'], action: 'start the implementation' },
  finishImplementation: { from: ['in_progress'], action: 'finish the implementation' },
  receivePart: { from: ['in_progress', 'reporting', 'returning_parts'], action: 'record a returned part as received' },
  // Before the work starts: after it, the devices are rectified or failed and rescheduled.
  decline: { from: ['picking', 'planning', 'scheduled'], action: "record the customer's refusal of the site work" },
} as const satisfies Record<string, StepRule<RectificationSiteStatus>>;

export interface SiteSlot {
  startsAt: string;
  durationMinutes: number;
  /** The number of this slot in the site's slot history (rectification_slot_moves.seq). */
  seq: number;
  confirmedAt: string | null;
}

export interface RectificationSiteState {
  status: RectificationSiteStatus;
  planDocumentId: string | null;
  planStatus: string | null;
  reportDocumentId: string | null;
  reportStatus: string | null;
  slot: SiteSlot | null;
  /** High-risk plans: when the R&D review let the plan through; null until then. */
  rdReviewFinishedAt: string | null;
  /** High-risk plans: slot - 3 days, as recorded when the slot was set. */
  rdReviewDueAt: string | null;
  attempts: number;
  rectified: string[];
  /** Declined with the customer's refusal of the site work (absent in runs before it existed). */
  declined?: string[];
  /** Returned parts not yet received, by id. */
  partsOutstanding: string[];
}

export interface PickMaterials extends ActorStamp {
  materials: { productCode: string; quantity: number }[];
  note: string | null;
}

export interface ProposeSlot extends ActorStamp {
  startsAt: string;
  durationMinutes: number;
  /** Why the slot changes (required for a rescheduling). */
  reason: string | null;
}

export interface ConfirmSlot extends ActorStamp {
  /** The slot confirmed: one that moved meanwhile is refused, naming the current one. */
  seq: number;
}

export interface ReplacedPart {
  deviceId: string;
  productCode: string;
  serial: string;
  disposition: PartDisposition;
}

export interface FinishImplementation extends ActorStamp {
  succeeded: boolean;
  result: string;
  /** The rollback carried out per the plan (required on failure). */
  rollback: string | null;
  replacedParts: ReplacedPart[];
}

export interface ReceivePart extends ActorStamp {
  partId: string;
  note: string | null;
}

/** The customer refused the site work: its devices are declined, with the proof. */
export interface DeclineSite extends ActorStamp {
  reason: string;
  /** Evidence files on the campaign's case (the customer's notice, fax or memo). */
  evidenceIds: string[];
}

export const rectificationSiteStateQuery = defineQuery<RectificationSiteState>('rectificationSiteState');
export const pickRectificationMaterialsUpdate = defineUpdate<RectificationSiteState, [PickMaterials]>('pickRectificationMaterials');
export const proposeRectificationSlotUpdate = defineUpdate<RectificationSiteState, [ProposeSlot]>('proposeRectificationSlot');
export const confirmRectificationSlotUpdate = defineUpdate<RectificationSiteState, [ConfirmSlot]>('confirmRectificationSlot');
export const startRectificationImplementationUpdate = defineUpdate<RectificationSiteState, [ActorStamp]>('startRectificationImplementation');
export const finishRectificationImplementationUpdate = defineUpdate<RectificationSiteState, [FinishImplementation]>('finishRectificationImplementation');
export const receiveRectificationPartUpdate = defineUpdate<RectificationSiteState, [ReceivePart]>('receiveRectificationPart');
export const declineRectificationSiteUpdate = defineUpdate<RectificationSiteState, [DeclineSite]>('declineRectificationSite');
