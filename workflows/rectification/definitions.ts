// Batch rectification (P3, seed 004 第六部分): the campaign parent workflow and its per-customer child
// workflows. Statuses, inputs, signals and updates, shared with the site child and the API. Only types,
// pure helpers and define* constants here: bundled into workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

export const RECTIFICATION_DEFECT_TYPES = ['design', 'production', 'component_batch', 'software_bug'] as const;
export type RectificationDefectType = (typeof RECTIFICATION_DEFECT_TYPES)[number];

/**
 * planning: the installed base is computed, the plan waits for its version and management's approval;
 * rolling_out: approved, customers are worked through in batches; completed: every device rectified or declined.
 */
export const RECTIFICATION_CAMPAIGN_STATUSES = ['planning', 'rolling_out', 'completed'] as const;
export type RectificationCampaignStatus = (typeof RECTIFICATION_CAMPAIGN_STATUSES)[number];

/**
 * pending: not started yet (the campaign starts customers in batches); awaiting_agreement: the plan and
 * timing wait for the customer's signature; in_progress: agreed, devices being rectified; completed:
 * every device rectified or declined; declined: the customer refused, with proof.
 */
export const RECTIFICATION_CUSTOMER_STATUSES = ['pending', 'awaiting_agreement', 'in_progress', 'completed', 'declined'] as const;
export type RectificationCustomerStatus = (typeof RECTIFICATION_CUSTOMER_STATUSES)[number];
export const RECTIFICATION_CUSTOMER_FINAL_STATUSES: readonly RectificationCustomerStatus[] = ['completed', 'declined'];

/** A failed device goes back to site_work when rescheduled. */
export const RECTIFICATION_DEVICE_STATUSES = ['awaiting_agreement', 'declined', 'awaiting_customer_apply', 'site_work', 'rectified', 'failed'] as const;
export type RectificationDeviceStatus = (typeof RECTIFICATION_DEVICE_STATUSES)[number];
export const RECTIFICATION_DEVICE_FINAL_STATUSES: readonly RectificationDeviceStatus[] = ['rectified', 'declined'];

export const campaignWorkflowId = (campaignNumber: string) => `rectification/${campaignNumber}`;
export const customerWorkflowId = (campaignNumber: string, customerId: string) => `rectification/${campaignNumber}/customer/${customerId}`;
export const siteWorkflowId = (campaignNumber: string, siteId: string) => `rectification/${campaignNumber}/site/${siteId}`;

/** The customer master data the slot rule reads (db -> activities -> workflow input). */
export interface CustomerCalendarRules {
  busyHours: { weekday: number; startMinute: number; endMinute: number }[];
  protectedPeriods: { startsOn: string; endsOn: string; reason: string }[];
}

export interface RectificationPart {
  productCode: string;
  quantity: number;
}

/** R&D's technical solution: a software version or patch with its guide, or parts replaced on site. */
export type RectificationSolution =
  | { kind: 'software'; version: string; patch: string | null; guide: string; instructions: string }
  | { kind: 'hardware'; parts: RectificationPart[]; instructions: string };

/** What the campaign carries over a continue-as-new: the rest lives in the database. */
export interface RectificationCampaignCarried {
  /** Customers whose child runs (abandoned by the earlier run, signalling this one by workflow id). */
  running: string[];
  /** The number of the last batch claimed (batches are claimed once by number, so a retried claim is the same batch). */
  lastBatch: number;
  runs: number;
}

export interface RectificationCampaignInput {
  caseId: string;
  campaignNumber: string;
  planDocumentId: string;
  /** Customer children running at once. */
  batchSize: number;
  /** Continue-as-new once the run's history has more events than this. */
  historyLimit: number;
  /** Present after a continue-as-new: the plan is approved and the rollout goes on. */
  carried?: RectificationCampaignCarried;
}

export interface RectificationCustomerInput {
  campaignCaseId: string;
  campaignNumber: string;
  customerId: string;
  parentWorkflowId: string;
  solutionKind: RectificationSolution['kind'];
  highRisk: boolean;
}

export interface RectificationCustomerResult {
  customerId: string;
  status: 'completed' | 'declined';
  rectified: number;
  declined: number;
}

/** A customer child's progress, sent to the campaign (by workflow id: it reaches the campaign's current run). */
export interface RectificationCustomerProgress {
  customerId: string;
  /** Devices still open (neither rectified nor declined). */
  open: number;
  finished: boolean;
}
export const rectificationCustomerProgressSignal = defineSignal<[RectificationCustomerProgress]>('rectificationCustomerProgress');

export interface RectificationCustomerState {
  status: RectificationCustomerStatus;
  agreementDocumentId: string | null;
  /** Devices neither rectified nor declined. */
  open: number;
  /** Sites whose site child was started. */
  sites: string[];
}
export const rectificationCustomerStateQuery = defineQuery<RectificationCustomerState>('rectificationCustomerState');

export const RECTIFICATION_CUSTOMER_STEPS = {
  decline: { from: ['awaiting_agreement', 'in_progress'], action: 'record the customer’s refusal' },
  confirmDevices: { from: ['in_progress'], action: 'confirm devices' },
} as const satisfies Record<string, StepRule<RectificationCustomerStatus>>;

/** The customer refused: every device of theirs not rectified and not at a site visit is declined, with the proof. */
export interface DeclineRectificationCustomer extends ActorStamp {
  reason: string;
  /** Evidence files on the campaign's case (the customer's notice, fax or memo). */
  evidenceIds: string[];
}
export const declineRectificationCustomerUpdate = defineUpdate<RectificationCustomerState, [DeclineRectificationCustomer]>('declineRectificationCustomer');

/** Software defects: the customer applied the version/patch on these devices, or asks for an engineer (a site visit for their sites). */
export interface ConfirmRectificationDevices extends ActorStamp {
  deviceIds: string[];
  outcome: 'applied' | 'engineer_requested';
  note: string | null;
}
export const confirmRectificationDevicesUpdate = defineUpdate<RectificationCustomerState, [ConfirmRectificationDevices]>('confirmRectificationDevices');

/** Who may raise a campaign: R&D (rd_reviewer) or supply chain and management (manager). */
export const RECTIFICATION_RAISERS = ['rd_reviewer', 'manager'] as const;
