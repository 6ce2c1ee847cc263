// Sign-off: one reusable piece for every document both sides must confirm (repair plans, service
// reports, recovery and implementation plans). A child workflow per document, with its own history
// however many rounds it takes. Only types and define* constants here: bundled into workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActorStamp } from '../shared/definitions';

export const DOCUMENT_KINDS = ['repair_plan', 'service_report', 'fault_report', 'recovery_plan', 'implementation_plan', 'write_up', 'incident_report', 'rectification_plan', 'rectification_agreement', 'rectification_report'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** The steps a version goes through, in the order the document's sign-off lists them. */
export const SIGN_OFF_STEPS = ['technical_review', 'manager_approval', 'rd_review', 'acceptance_test', 'customer_signature'] as const;
export type SignOffStep = (typeof SIGN_OFF_STEPS)[number];

/** What can be decided at a step: the first of each pair lets the version go on, the second sends it back to its author. */
export const STEP_DECISIONS = {
  technical_review: ['approved', 'rejected'],
  manager_approval: ['approved', 'rejected'],
  rd_review: ['approved', 'rejected'],
  // A test of the version (e.g. a recovery plan tried before the customer confirms it): a failure sends it back to its author.
  acceptance_test: ['passed', 'failed'],
  customer_signature: ['signed', 'objected'],
} as const satisfies Record<SignOffStep, readonly [string, string]>;
export type DocumentDecision = (typeof STEP_DECISIONS)[SignOffStep][number];
export const DOCUMENT_DECISIONS = ['approved', 'rejected', 'passed', 'failed', 'signed', 'objected'] as const satisfies readonly DocumentDecision[];

/** Who may decide each step (users' roles; the customer acts through a signed link). */
export const STEP_DECIDERS: Record<SignOffStep, readonly string[]> = {
  technical_review: ['senior_engineer', 'manager'],
  manager_approval: ['manager'],
  rd_review: ['rd_reviewer'],
  acceptance_test: ['senior_engineer', 'manager'],
  customer_signature: ['customer'],
};

export const SIGN_OFF_STATUSES = ['awaiting_version', 'in_review', 'returned', 'signed', 'withdrawn'] as const;
export type SignOffStatus = (typeof SIGN_OFF_STATUSES)[number];

export interface SignOffInput {
  documentId: string;
  caseId: string;
  kind: DocumentKind;
  steps: SignOffStep[];
  /** The case's process workflow, told of every change (`documentChangedSignal`); none when started alone. */
  parentWorkflowId?: string;
  /**
   * A new run for a document signed before (e.g. a repair plan reopened on site): the last version
   * of the earlier runs, so that this run numbers its versions after it. 0 (none) when absent.
   */
  startVersion?: number;
}

export interface SignOffState {
  documentId: string;
  status: SignOffStatus;
  /** The version under review or last returned; 0 before the first. */
  version: number;
  /** The step the current version waits for; null unless in review. */
  step: SignOffStep | null;
}

export interface VersionSubmission extends ActorStamp {
  /** The author's user id: told when the version comes back. */
  userId?: string | null;
  /** The version's content, validated per kind by the API. */
  content: Record<string, unknown>;
  /** Why this version (a revision after a rejection names what changed). */
  reason: string | null;
}

export interface DecisionSubmission extends ActorStamp {
  /** The version decided: a decision on a superseded version is refused. */
  version: number;
  decision: DocumentDecision;
  comment: string | null;
}

/** The ApplicationFailure type of a decision on a version that is no longer current: the API maps it to 409 naming the current one. */
export const VERSION_SUPERSEDED = 'VersionSuperseded';

export const signOffStateQuery = defineQuery<SignOffState>('signOffState');
export const submitDocumentVersionUpdate = defineUpdate<SignOffState, [VersionSubmission]>('submitDocumentVersion');
export const decideDocumentUpdate = defineUpdate<SignOffState, [DecisionSubmission]>('decideDocument');
export const withdrawDocumentSignal = defineSignal<[ActorStamp & { reason: string }]>('withdrawDocument');
/** Sent to the parent workflow on every change of a document's sign-off. */
export const documentChangedSignal = defineSignal<[SignOffState & { kind: DocumentKind }]>('documentChanged');

export function signOffWorkflowId(documentId: string): string {
  return `document/${documentId}`;
}
