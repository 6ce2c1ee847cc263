// Batch rectification, one site (P3 step 3-6): the site child workflow's input, signals and result,
// shared with the customer child that starts it and with the API. Only types and define* constants
// here: bundled into workflow code.
import { defineSignal } from '@temporalio/workflow';

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
