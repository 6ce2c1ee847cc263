// Row types of the batch rectification tables (migration 2026-12-06T00), part of `Database` in schema.ts.
import type { ColumnType, Generated } from 'kysely';
import type {
  RectificationCampaignStatus,
  RectificationCustomerStatus,
  RectificationDefectType,
  RectificationDeviceStatus,
  RectificationSolution,
} from '../workflows/rectification/definitions';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb written as JSON text, read parsed. */
type JsonOf<T> = ColumnType<T, string, string>;
/** numeric: pg returns it as a string. */
type Numeric = ColumnType<string, string | number, string | number>;

export interface RectificationCampaignsTable {
  case_id: string;
  case_number: string;
  status: RectificationCampaignStatus;
  title: string;
  defect_type: RectificationDefectType;
  description: string;
  affected: JsonOf<{ productCodes: string[]; serials: string[]; serialRanges: { from: string; to: string }[] }>;
  solution: JsonOf<RectificationSolution>;
  solution_kind: RectificationSolution['kind'];
  effort_hours_per_device: Numeric;
  effort_parts_per_device: JsonOf<{ productCode: string; quantity: number }[]>;
  high_risk: boolean;
  device_count: number;
  site_count: number;
  customer_count: number;
  total_hours: Numeric;
  total_parts: JsonOf<{ productCode: string; quantity: number }[]>;
  plan_document_id: string;
  customers_at_once: Generated<number>;
  history_limit: Generated<number>;
  raised_by: string;
  raised_by_role: string;
  raised_by_user_id: string | null;
  approved_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RectificationCustomersTable {
  campaign_case_id: string;
  customer_id: string;
  status: RectificationCustomerStatus;
  batch: number | null;
  agreement_document_id: string | null;
  agreed_at: NullableTimestamp;
  declined_at: NullableTimestamp;
  declined_by: string | null;
  decline_reason: string | null;
  decline_evidence_ids: string[] | null;
  completed_at: NullableTimestamp;
  updated_at: Timestamp;
}

export interface RectificationDevicesTable {
  campaign_case_id: string;
  device_id: string;
  customer_id: string;
  site_id: string | null;
  status: RectificationDeviceStatus;
  applied_by: string | null;
  engineer_requested_at: NullableTimestamp;
  decline_evidence_ids: string[] | null;
  updated_at: Timestamp;
}

export interface CustomerBusyHoursTable {
  id: Generated<string>;
  customer_id: string;
  weekday: number;
  start_minute: number;
  end_minute: number;
  note: string | null;
  created_at: Timestamp;
}

export interface CustomerProtectedPeriodsTable {
  id: Generated<string>;
  customer_id: string;
  /** date columns: read as 'YYYY-MM-DD' strings (db/index.ts type parser). */
  starts_on: string;
  ends_on: string;
  reason: string;
  created_at: Timestamp;
}
