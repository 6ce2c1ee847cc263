// RMA repair (P5, seed 004 12.2.3): the workflow's input, state, statuses, queries and updates,
// shared with the API. Only types, pure helpers and define* constants here: this module is bundled
// into workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

/**
 * An RMA's statuses. Customer RMAs (opened by the desk or by a converted DOA claim): awaiting_return
 * -> (discrepancy ->) in_repair -> awaiting_shipment -> shipped -> closed. Internal RMAs (a failed part
 * returned to a spare-part loan, already here, repaired back into stock): in_stock_repair ->
 * restocked, or scrapped.
 */
export const RMA_REPAIR_STATUSES = [
  'awaiting_return',
  'discrepancy',
  'in_repair',
  'awaiting_shipment',
  'shipped',
  'closed',
  'in_stock_repair',
  'restocked',
  'scrapped',
] as const;
export type RmaRepairStatus = (typeof RMA_REPAIR_STATUSES)[number];

export const RMA_REPAIR_FINAL_STATUSES: readonly RmaRepairStatus[] = ['closed', 'restocked', 'scrapped'];
export const RMA_REPAIR_OPEN_STATUSES: readonly RmaRepairStatus[] = RMA_REPAIR_STATUSES.filter((status) => !RMA_REPAIR_FINAL_STATUSES.includes(status));

/** Where an RMA came from: the desk, a rejected DOA claim the customer converted, or a part returned to a spare-part loan. */
export const RMA_REPAIR_ORIGINS = ['desk', 'doa_conversion', 'spare_part_return'] as const;
export type RmaRepairOrigin = (typeof RMA_REPAIR_ORIGINS)[number];

/** The status an RMA of each origin is opened in. */
export function rmaRepairStartStatus(origin: RmaRepairOrigin): RmaRepairStatus {
  return origin === 'spare_part_return' ? 'in_stock_repair' : 'awaiting_return';
}

/** One part line of an RMA. */
export const RMA_PART_STATUSES = ['awaiting_receipt', 'discrepancy', 'received', 'repaired', 'replaced', 'scrapped'] as const;
export type RmaPartStatus = (typeof RMA_PART_STATUSES)[number];

/** What the engineer did with a part: a customer's part is repaired or replaced; a part for stock is repaired or scrapped. */
export const RMA_REPAIR_OUTCOMES = ['repaired', 'replaced', 'scrapped'] as const;
export type RmaRepairOutcome = (typeof RMA_REPAIR_OUTCOMES)[number];
export const CUSTOMER_RMA_OUTCOMES: readonly RmaRepairOutcome[] = ['repaired', 'replaced'];
export const INTERNAL_RMA_OUTCOMES: readonly RmaRepairOutcome[] = ['repaired', 'scrapped'];

/** How the desk settles a part whose serial did not match: keep what arrived, or have the customer send the right part. */
export const RMA_DISCREPANCY_RESOLUTIONS = ['accept_as_received', 'request_right_part'] as const;
export type RmaDiscrepancyResolution = (typeof RMA_DISCREPANCY_RESOLUTIONS)[number];

/** Each human step of an RMA: the statuses it may start from (declared once: the workflow checks them). */
export const RMA_REPAIR_STEPS = {
  // Parts may arrive in several parcels: the desk records each receipt while parts are still awaited.
  recordReceipt: { from: ['awaiting_return', 'discrepancy'], action: 'record a goods receipt' },
  resolveDiscrepancy: { from: ['discrepancy'], action: 'resolve a discrepancy' },
  recordOutcome: { from: ['in_repair', 'in_stock_repair'], action: 'record a repair outcome' },
  shipBack: { from: ['awaiting_shipment'], action: 'ship the parts back' },
  confirmDelivery: { from: ['shipped'], action: 'confirm delivery' },
} as const satisfies Record<string, StepRule<RmaRepairStatus>>;

/** The managers are told the ship-back is close when this share of its promise has run (counted as the SLA class counts time, as fault repair warns). */
export const SHIP_BACK_WARNING_SHARE = 0.75;
/** A shipped RMA whose receipt the customer has not confirmed is chased at the end of this many China working days after shipping. */
export const DELIVERY_CHASE_WORKING_DAYS = 3;

export interface RmaRepairInput {
  caseId: string;
  caseNumber: string;
}

export const rmaRepairWorkflowId = (caseNumber: string) => `rma/${caseNumber}`;

/** The ship-back deadline, computed once from the business calendar when the goods receipt completed, and recorded. */
export interface ShipBackDeadline {
  slaClass: string;
  /** When the receipt completed: the SLA clock starts here. */
  receivedAt: string;
  dueAt: string;
  /** When the managers are told it is close (SHIP_BACK_WARNING_SHARE of the promise, counted as the class counts time). */
  warnAt: string;
  provisional: boolean;
  missingYears: number[];
  rule: { en: string; zh: string };
}

export interface RmaRepairState {
  caseNumber: string;
  status: RmaRepairStatus;
  /** Internal RMAs (spare-part returns) have no customer leg; null until the workflow read the case. */
  internal: boolean | null;
  shipBack: ShipBackDeadline | null;
  dueWarnedAt: string | null;
  dueMissedAt: string | null;
  shippedAt: string | null;
  shippedLate: boolean | null;
  /** When an unconfirmed delivery is chased (computed at shipping); null before. */
  deliveryChaseAt: string | null;
  deliveryChasedAt: string | null;
}

/** The result of opening: what kind of RMA it is and where it stands (a restarted case may have moved on). */
export interface RmaOpened {
  internal: boolean;
  status: RmaRepairStatus;
  shipBack: ShipBackDeadline | null;
}

/** One part as it arrived: the line it belongs to and the serial on it. */
export interface RmaReceivedPart {
  /** The part line, 1-based, as GET /rma-repairs/:number lists them. */
  line: number;
  receivedSerial: string;
  note?: string | null;
}
export interface RmaReceiptInput extends ActorStamp {
  /** ISO instant the parcel arrived. */
  receivedAt: string;
  parts: RmaReceivedPart[];
}
export interface RmaDiscrepancyResolutionInput extends ActorStamp {
  line: number;
  resolution: RmaDiscrepancyResolution;
  comment: string;
}
export interface RmaOutcomeInput extends ActorStamp {
  line: number;
  outcome: RmaRepairOutcome;
  note: string;
}
export interface RmaShipBackInput extends ActorStamp {
  carrier: string;
  trackingNumber: string;
  /** ISO instant the parcel left. */
  shippedAt: string;
  /** The new serial of each replaced part (and only of those). */
  replacements: { line: number; newSerial: string }[];
}
export interface RmaDeliveryConfirmationInput extends ActorStamp {
  /** ISO instant the customer received the parts. */
  receivedAt: string;
  note: string | null;
}

/** What a receipt or a resolution settled: the RMA's new status, and the ship-back deadline once the receipt is complete. */
export interface RmaReceiptResult {
  status: RmaRepairStatus;
  shipBack: ShipBackDeadline | null;
}

export const rmaRepairStateQuery = defineQuery<RmaRepairState>('rmaRepairState');
export const recordRmaReceiptUpdate = defineUpdate<RmaRepairState, [RmaReceiptInput]>('recordRmaReceipt');
export const resolveRmaDiscrepancyUpdate = defineUpdate<RmaRepairState, [RmaDiscrepancyResolutionInput]>('resolveRmaDiscrepancy');
export const recordRmaOutcomeUpdate = defineUpdate<RmaRepairState, [RmaOutcomeInput]>('recordRmaOutcome');
export const shipRmaBackUpdate = defineUpdate<RmaRepairState, [RmaShipBackInput]>('shipRmaBack');
export const confirmRmaDeliveryUpdate = defineUpdate<RmaRepairState, [RmaDeliveryConfirmationInput]>('confirmRmaDelivery');
