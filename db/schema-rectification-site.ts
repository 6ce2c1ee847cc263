// Row types of the rectification site tables (migration 2026-12-06T01), part of `Database` in schema.ts.
import type { ColumnType, Generated } from 'kysely';
import type { PartDisposition, RectificationSiteStatus, ReturnedPartStatus, SlotMoveReason } from '../workflows/rectification/site-definitions';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb written as JSON text, read parsed. */
type NullableJsonOf<T> = ColumnType<T | null, string | null | undefined, string | null>;

export interface RectificationSitesTable {
  campaign_case_id: string;
  site_id: string;
  campaign_number: string;
  customer_id: string;
  contact_id: string;
  workflow_id: string;
  status: RectificationSiteStatus;
  high_risk: boolean;
  device_ids: string[];
  work_order_opened_at: Timestamp;
  materials: NullableJsonOf<{ productCode: string; quantity: number }[]>;
  materials_picked_at: NullableTimestamp;
  materials_picked_by: string | null;
  plan_document_id: string | null;
  plan_signed_version: number | null;
  plan_signed_at: NullableTimestamp;
  rd_review_finished_at: NullableTimestamp;
  slot_starts_at: NullableTimestamp;
  slot_duration_minutes: number | null;
  slot_confirmed_at: NullableTimestamp;
  rd_review_due_at: NullableTimestamp;
  rd_review_overdue_at: NullableTimestamp;
  attempts: Generated<number>;
  report_document_id: string | null;
  report_signed_at: NullableTimestamp;
  archived_at: NullableTimestamp;
  declined_at: NullableTimestamp;
  declined_by: string | null;
  decline_reason: string | null;
  decline_evidence_ids: string[] | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface RectificationSlotMovesTable {
  campaign_case_id: string;
  site_id: string;
  seq: number;
  reason: SlotMoveReason;
  detail: string;
  starts_at: Timestamp;
  duration_minutes: number;
  previous_starts_at: NullableTimestamp;
  moved_by: string;
  moved_by_role: string;
  moved_at: Timestamp;
  confirmed_at: NullableTimestamp;
  confirmed_by: string | null;
}

export interface RectificationSiteAttemptsTable {
  campaign_case_id: string;
  site_id: string;
  attempt: number;
  slot_starts_at: Timestamp;
  started_at: Timestamp;
  started_by: string;
  outcome: 'succeeded' | 'failed' | null;
  result: string | null;
  rollback: string | null;
  finished_at: NullableTimestamp;
  finished_by: string | null;
}

export interface RectificationReturnedPartsTable {
  id: Generated<string>;
  campaign_case_id: string;
  site_id: string;
  device_id: string;
  product_code: string;
  serial: string;
  disposition: PartDisposition;
  status: ReturnedPartStatus;
  return_due_date: ColumnType<string | null, string | null | undefined, string | null>;
  return_due_at: NullableTimestamp;
  return_reminders: NullableJsonOf<{ date: string; at: string; workingDaysLeft: number; stillTrueUntil?: string }[]>;
  reminded_at: NullableTimestamp;
  overdue_at: NullableTimestamp;
  received_at: NullableTimestamp;
  received_by: string | null;
  receipt_note: string | null;
  created_at: Generated<Date>;
}
