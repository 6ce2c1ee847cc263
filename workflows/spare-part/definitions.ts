// Spare part first (P4): the workflow's input, state, statuses, queries and updates, shared with the API.
// Only types and define* constants here: this module is bundled into workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

export const SPARE_PART_STATUSES = [
  'pending_approval',
  'rejected',
  'approved',
  'shipped',
  'awaiting_return',
  'overdue',
  'returned',
  'written_off',
] as const;
export type SparePartStatus = (typeof SPARE_PART_STATUSES)[number];

/** Statuses after which nothing more happens to a loan. */
export const SPARE_PART_FINAL_STATUSES: readonly SparePartStatus[] = ['rejected', 'returned', 'written_off'];
/** A loan in progress: at most one per failed device. */
export const SPARE_PART_OPEN_STATUSES: readonly SparePartStatus[] = SPARE_PART_STATUSES.filter((status) => !SPARE_PART_FINAL_STATUSES.includes(status));

/** Each human step of a loan: the statuses it may start from (declared once: the workflow checks them, the API can show them). */
export const SPARE_PART_STEPS = {
  approve: { from: ['pending_approval'], action: 'approve' },
  reject: { from: ['pending_approval'], action: 'reject' },
  ship: { from: ['approved'], action: 'record a shipment' },
  confirmReceipt: { from: ['shipped'], action: 'confirm receipt' },
  recordReturn: { from: ['awaiting_return', 'overdue'], action: 'record the return' },
  recordPayment: { from: ['overdue'], action: 'record a payment' },
} as const satisfies Record<string, StepRule<SparePartStatus>>;

export interface SparePartLoanInput {
  caseId: string;
  loanNumber: string;
  /** What a returned part's serial must match. */
  failedSerial: string;
}

export interface ReturnDeadline {
  /** YYYY-MM-DD, Asia/Shanghai. */
  dueDate: string;
  /** End of the due day, ISO instant. */
  dueAt: string;
  provisional: boolean;
  missingYears: number[];
  reminders: ReturnReminder[];
}

export interface ReturnReminder {
  /** YYYY-MM-DD, Asia/Shanghai: the day it goes out. */
  date: string;
  /** 09:00 of that day, ISO instant. */
  at: string;
  workingDaysLeft: number;
  /**
   * ISO instant until which "workingDaysLeft working days left" is true: the start of the next working
   * day (the deadline itself for the last-day reminder). A reminder that comes due later is skipped.
   * Absent from deadlines recorded before it existed.
   */
  stillTrueUntil?: string;
}

export interface SparePartLoanState {
  loanNumber: string;
  status: SparePartStatus;
  deadline: ReturnDeadline | null;
  remindersSent: string[];
  /** Days whose reminder was no longer true when it came due, so it was not sent. */
  remindersSkipped: string[];
}

export interface DecisionInput extends ActorStamp {
  comment?: string | null;
}
export interface RejectionInput extends ActorStamp {
  reason: string;
}
export interface SparePartShipmentInput extends ActorStamp {
  replacementSerial: string;
  carrier: string;
  trackingNumber: string;
  /** ISO instant the part left; defaults to `at`. */
  shippedAt: string;
}
export interface SparePartReceiptInput extends ActorStamp {
  /** ISO instant the customer received the replacement. */
  receivedAt: string;
  discrepancy: string | null;
}
export interface SparePartReturnInput extends ActorStamp {
  returnedSerial: string;
  faultTagPresent: boolean;
  discrepancy: string | null;
  /** ISO instant the failed part arrived. */
  receivedAt: string;
}
export interface SparePartPaymentInput extends ActorStamp {
  reference: string;
}

export const sparePartStateQuery = defineQuery<SparePartLoanState>('sparePartState');
export const approveSparePartUpdate = defineUpdate<SparePartLoanState, [DecisionInput]>('approveSparePart');
export const rejectSparePartUpdate = defineUpdate<SparePartLoanState, [RejectionInput]>('rejectSparePart');
export const recordSparePartShipmentUpdate = defineUpdate<SparePartLoanState, [SparePartShipmentInput]>('recordSparePartShipment');
export const confirmSparePartReceiptUpdate = defineUpdate<SparePartLoanState, [SparePartReceiptInput]>('confirmSparePartReceipt');
export const recordSparePartReturnUpdate = defineUpdate<SparePartLoanState, [SparePartReturnInput]>('recordSparePartReturn');
export const recordSparePartPaymentUpdate = defineUpdate<SparePartLoanState, [SparePartPaymentInput]>('recordSparePartPayment');

export function sparePartWorkflowId(loanNumber: string): string {
  return `spare-part/${loanNumber}`;
}
