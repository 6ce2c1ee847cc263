import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { DoaClaimStatus, DoaConversionAnswer, DoaDecisionOutcome } from '../workflows/doa-claim/definitions';
import type { DocumentDecision, DocumentKind, SignOffStep } from '../workflows/sign-off/definitions';
import type { CustomerBusyHoursTable, CustomerProtectedPeriodsTable, RectificationCampaignsTable, RectificationCustomersTable, RectificationDevicesTable } from './schema-rectification';
import type { RectificationReturnedPartsTable, RectificationSiteAttemptsTable, RectificationSitesTable, RectificationSlotMovesTable } from './schema-rectification-site';

export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A timestamp the database fills in by default. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
export type Json = ColumnType<unknown, string, string>;

export const CUSTOMER_CLASSES = ['A', 'B', 'C'] as const;
export type CustomerClass = (typeof CUSTOMER_CLASSES)[number];

export const SLA_CLASSES = ['5x8', '7x24', 'NBD', 'ND', '30CD', '4H', '2H'] as const;
export type SlaClass = (typeof SLA_CLASSES)[number];

/** Service level for hardware faults: spare part first, or downgraded to return-for-repair while a loan is overdue. */
export const SERVICE_DOWNGRADES = ['none', 'return_for_repair'] as const;
export type ServiceDowngrade = (typeof SERVICE_DOWNGRADES)[number];

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** A customer contact's role: the summary report of an incident goes to the supervisor. */
export const CONTACT_ROLES = ['operations', 'supervisor', 'technical'] as const;
export type ContactRole = (typeof CONTACT_ROLES)[number];

export const PRODUCT_LINES = ['network', 'storage', 'server', 'nms'] as const;
export type ProductLine = (typeof PRODUCT_LINES)[number];

export const USER_ROLES = ['manager', 'engineer', 'senior_engineer', 'service_desk', 'rd_reviewer', 'billing', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const CASE_KINDS = ['fault_repair', 'incident', 'batch_rectification', 'spare_part', 'doa_claim', 'goods_claim', 'rma_repair'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

/**
 * pending: waits for its first attempt; sending: an attempt holds it (until `lease_until`); sent: SMTP
 * accepted it; failed: the last SMTP send failed, tried again at `next_attempt_at`; unconfirmed: an
 * attempt started sending it and never recorded the outcome, so SMTP may have accepted it: never
 * sent again without a person checking (the Message-ID is derived from the idempotency key).
 */
export const EMAIL_STATUSES = ['pending', 'sending', 'sent', 'failed', 'unconfirmed'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

export interface CustomersTable {
  id: Generated<string>;
  code: string;
  name: string;
  customer_class: CustomerClass;
  sla_class: SlaClass;
  billing_day: number;
  spare_part_first: boolean;
  service_downgrade: Generated<ServiceDowngrade>;
  downgraded_at: Timestamp | null;
  /** The daily maintenance window for high-risk work, minutes after midnight China time (default 0-300: 00:00-05:00). */
  maintenance_window_start_minute: Generated<number>;
  maintenance_window_end_minute: Generated<number>;
  created_at: CreatedAt;
}

export interface ContactsTable {
  id: Generated<string>;
  customer_id: string;
  name: string;
  email: string;
  phone: string | null;
  locale: Generated<Locale>;
  role: Generated<ContactRole>;
  created_at: CreatedAt;
}

export interface SitesTable {
  id: Generated<string>;
  customer_id: string;
  name: string;
  city: string;
  address: string | null;
  distance_km: number;
  created_at: CreatedAt;
}

export interface ProductsTable {
  id: Generated<string>;
  code: string;
  name: string;
  product_line: ProductLine;
  /** Catalogue list price in fen (CNY cents). */
  list_price_cents: number;
  created_at: CreatedAt;
}

export interface DevicesTable {
  id: Generated<string>;
  serial: string;
  product_id: string;
  customer_id: string;
  site_id: string | null;
  warranty_end: string | null;
  first_power_on_at: Timestamp | null;
  /** Who sold it, when not our company (null): the seller is responsible for its DOA and goods claims. */
  sold_by: Generated<string | null>;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  name: string;
  email: string;
  role: UserRole;
  /** SHA-256 of the API token, hex; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: CreatedAt;
  disabled_at: Timestamp | null;
  /** The console language the user chose; null: the browser's. */
  locale: Generated<Locale | null>;
}

export interface ConsoleSessionsTable {
  id: Generated<string>;
  user_id: string;
  /** SHA-256 of the session cookie's value, hex. */
  token_hash: string;
  /** The hash before the last rotation, accepted until `previous_valid_until` (requests in flight). */
  previous_token_hash: string | null;
  previous_valid_until: Timestamp | null;
  csrf_token: string;
  created_at: CreatedAt;
  rotated_at: CreatedAt;
  last_seen_at: CreatedAt;
  revoked_at: Timestamp | null;
  user_agent: string | null;
}

export interface CasesTable {
  id: Generated<string>;
  kind: CaseKind;
  number: string;
  status: string;
  /** null only for a batch rectification campaign, which spans many customers. */
  customer_id: string | null;
  device_id: string | null;
  workflow_id: string;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  closed_at: Timestamp | null;
}

export interface AuditEventsTable {
  id: Generated<string>;
  case_id: string | null;
  occurred_at: Timestamp;
  actor: string;
  actor_role: string;
  action: string;
  comment: string | null;
  data: Json;
  /** Set by activities so that a retried step writes its audit entry once. */
  idempotency_key: string | null;
}

export interface EmailOutboxTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string | null;
  recipient: string;
  locale: Locale;
  template: string;
  subject: string;
  body_text: string;
  /** The HTML part, same content as the text; null on rows queued before emails had one. */
  body_html: string | null;
  /** An iCalendar invitation (text/calendar, METHOD:REQUEST) sent with the mail; null for most mails. */
  calendar_invite: Generated<string | null>;
  status: Generated<EmailStatus>;
  attempts: Generated<number>;
  lease_until: Timestamp | null;
  /** When the relay may next try it: now for a new row, later after each SMTP failure (backoff). */
  next_attempt_at: Timestamp;
  /** When the latest attempt handed it to SMTP. */
  send_started_at: Timestamp | null;
  provider_message_id: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  sent_at: Timestamp | null;
}

export interface InvoiceLinesTable {
  id: Generated<string>;
  customer_id: string;
  case_id: string | null;
  /** The billing cycle the line belongs to, as YYYY-MM. */
  billing_cycle: string;
  description: string;
  /** In fen; a credit line is negative. */
  amount_cents: number;
  currency: Generated<string>;
  /** What produced the line (e.g. `spare-part/SP-2026-000042/overdue`): unique, so a retry cannot bill twice. */
  source_ref: string;
  issued_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface SignedLinkUsesTable {
  token_id: string;
  case_id: string;
  action: string;
  used_at: Timestamp;
}

export interface SparePartLoansTable {
  case_id: string;
  loan_number: string;
  customer_id: string;
  contact_id: string;
  failed_device_id: string;
  related_case_id: string | null;
  fault_description: string;
  delivery_address: string;
  status: string;
  applied_by: string;
  applied_by_role: string;
  applied_at: Timestamp;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision_comment: string | null;
  replacement_serial: string | null;
  carrier: string | null;
  tracking_number: string | null;
  shipped_at: Timestamp | null;
  replacement_warranty_end: string | null;
  received_at: Timestamp | null;
  receipt_confirmed_by: string | null;
  receipt_discrepancy: string | null;
  return_due_date: string | null;
  return_due_at: Timestamp | null;
  return_deadline_provisional: boolean | null;
  return_deadline_missing_years: number[] | null;
  first_reminder_date: string | null;
  reminder_dates: string[] | null;
  returned_at: Timestamp | null;
  return_discrepancy: string | null;
  fault_tag_present: boolean | null;
  overdue_at: Timestamp | null;
  written_off_at: Timestamp | null;
  write_off_reason: 'late_return' | 'payment' | null;
  payment_reference: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/**
 * An RMA repair (workflows/rma-repair/definitions.ts): its case, origin and ship-back. Rows written
 * before the RMA process (spare-part returns) have no case; device and fault live on the part lines.
 */
export interface RmaRepairsTable {
  id: Generated<string>;
  /** What opened it, unique: `<loan number>/returned-part`, `<DOA number>/rma-conversion`, or the RMA number (desk). */
  source_ref: string;
  customer_id: string;
  /** Before the RMA process: the one part's device and fault (now on rma_repair_parts). */
  device_id: ColumnType<string | null, string | null | undefined, string | null>;
  origin_case_id: string | null;
  fault_description: ColumnType<string | null, string | null | undefined, string | null>;
  status: string;
  received_at: NullableTimestamp;
  created_at: CreatedAt;
  case_id: ColumnType<string | null, string | null | undefined, string | null>;
  case_number: ColumnType<string | null, string | null | undefined, string | null>;
  origin: ColumnType<'desk' | 'doa_conversion' | 'spare_part_return', 'desk' | 'doa_conversion' | 'spare_part_return' | undefined, never>;
  contact_id: ColumnType<string | null, string | null | undefined, string | null>;
  opened_by: ColumnType<string | null, string | null | undefined, string | null>;
  opened_by_role: ColumnType<string | null, string | null | undefined, string | null>;
  opened_at: NullableTimestamp;
  /** workflows/rma-repair/definitions.ts ShipBackDeadline, as computed once at receipt. */
  ship_back_deadline: ColumnType<unknown, string | null | undefined, string | null>;
  ship_due_at: NullableTimestamp;
  due_warned_at: NullableTimestamp;
  due_missed_at: NullableTimestamp;
  carrier: ColumnType<string | null, string | null | undefined, string | null>;
  tracking_number: ColumnType<string | null, string | null | undefined, string | null>;
  shipped_at: NullableTimestamp;
  shipped_by: ColumnType<string | null, string | null | undefined, string | null>;
  shipped_late: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  delivery_chase_at: NullableTimestamp;
  delivery_chased_at: NullableTimestamp;
  delivery_confirmed_at: NullableTimestamp;
  delivery_confirmed_by: ColumnType<string | null, string | null | undefined, string | null>;
  delivery_note: ColumnType<string | null, string | null | undefined, string | null>;
  closed_at: NullableTimestamp;
  updated_at: CreatedAt;
}

/** One part of an RMA: its device and fault, its receipt (and discrepancy), the repair outcome and the warranty it ships with. */
export interface RmaRepairPartsTable {
  id: Generated<string>;
  rma_id: string;
  case_id: string | null;
  line: number;
  device_id: string;
  fault_description: string;
  status: string;
  received_serial: string | null;
  received_at: NullableTimestamp;
  received_by: string | null;
  receipt_note: string | null;
  discrepancy_resolution: 'accept_as_received' | 'request_right_part' | null;
  discrepancy_comment: string | null;
  discrepancy_resolved_by: string | null;
  discrepancy_resolved_at: NullableTimestamp;
  outcome: 'repaired' | 'replaced' | 'scrapped' | null;
  outcome_note: string | null;
  outcome_by: string | null;
  outcome_at: NullableTimestamp;
  replacement_serial: string | null;
  replacement_device_id: string | null;
  warranty_end: string | null;
  warranty_basis: 'ninety_days_from_shipping' | 'rest_of_original_warranty' | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface CalendarYearsTable {
  year: number;
  source: string;
  version: string;
  /** Goes up by one each time the year is replaced. */
  revision: Generated<number>;
  loaded_at: CreatedAt;
  loaded_by: string;
}

export interface CalendarDaysTable {
  /** 'YYYY-MM-DD' (an Asia/Shanghai calendar date). */
  date: string;
  year: number;
  kind: 'holiday' | 'adjusted_working_day';
  name: string | null;
  source: string;
}

/** The first answer to a POST sent with an `Idempotency-Key`, replayed to retries for 24 hours. */
export interface IdempotencyKeysTable {
  /** Whose key it is: `user:<id>`, or `link:<subject>` for a customer acting through a signed link. */
  principal: string;
  idempotency_key: string;
  request_method: string;
  /** The route pattern, e.g. `/spare-parts/:loanNumber/approve` (readable; the path itself may hold a link token). */
  route: string;
  /** SHA-256 of the request path and query: a key is bound to one path, which may carry a credential. */
  request_path_hash: string;
  /** SHA-256 of the body as canonical JSON (keys sorted). */
  request_body_hash: string;
  /** Which request holds the key: only that one records its answer (a stale claim may be taken over). */
  claim_id: string;
  /** Null while the first request is still in flight; 5xx answers are never stored. */
  response_status: number | null;
  /** The exact JSON text of the answer. */
  response_body: string | null;
  created_at: CreatedAt;
  completed_at: Timestamp | null;
}

export interface DocumentsTable {
  id: Generated<string>;
  case_id: string;
  kind: DocumentKind;
  title: string;
  steps: SignOffStep[];
  contact_id: string | null;
  workflow_id: string;
  created_by: string;
  created_at: CreatedAt;
}

export interface DocumentVersionsTable {
  id: Generated<string>;
  document_id: string;
  version: number;
  content: ColumnType<Record<string, unknown>, string, never>;
  reason: string | null;
  submitted_by: string;
  submitted_by_role: string;
  submitted_by_user_id: string | null;
  submitted_at: Timestamp;
}

export interface DocumentDecisionsTable {
  id: Generated<string>;
  document_id: string;
  version: number;
  step: SignOffStep | 'withdrawal' | 'reopening';
  decision: DocumentDecision | 'withdrawn' | 'reopened';
  comment: string | null;
  decided_by: string;
  decided_by_role: string;
  decided_at: Timestamp;
}

export interface FaultRepairsTable {
  case_id: string;
  case_number: string;
  customer_id: string;
  contact_id: string;
  device_id: string;
  site_id: string | null;
  symptoms: string;
  actions_taken: string;
  suspected_cause: string;
  severity: 'critical' | 'major' | 'serious' | 'minor';
  status: string;
  reported_at: Timestamp;
  registered_by: string;
  registered_by_role: string;
  /** The SLA targets as computed once (workflows/fault-repair/definitions.ts SlaTarget[]); null until computed. */
  sla_targets: ColumnType<unknown, string | null | undefined, string | null>;
  diagnosis_outcome: 'solved_remotely' | 'needs_plan' | null;
  diagnosis_findings: string | null;
  plan_document_id: string | null;
  plan_signed_version: number | null;
  high_risk_operations: string[] | null;
  report_document_id: string | null;
  engineer_user_id: string | null;
  appointment_at: Timestamp | null;
  arrived_at: Timestamp | null;
  work_started_at: Timestamp | null;
  window_ends_at: Timestamp | null;
  window_overrun_at: Timestamp | null;
  work_finished_at: Timestamp | null;
  result: 'fixed' | 'not_fixed' | 'solved_remotely' | null;
  result_note: string | null;
  restored_at: Timestamp | null;
  escalated_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  // Stage 2 (2026-12-02T22-00-00_fault_repair_follow_up).
  fault_report_due_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  fault_report_chase_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  fault_report_chased_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  fault_report_missed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The seven items as submitted (workflows/fault-repair/definitions.ts FaultReportContent). */
  fault_report: ColumnType<unknown, string | null | undefined, string | null>;
  fault_report_submitted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  fault_report_submitted_by: ColumnType<string | null, string | null | undefined, string | null>;
  follow_up_due_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  follow_up_chased_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  follow_up_escalated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  follow_up_called_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  follow_up_called_by: ColumnType<string | null, string | null | undefined, string | null>;
  follow_up_reached: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  follow_up_notes: ColumnType<string | null, string | null | undefined, string | null>;
  survey_sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  survey_score: ColumnType<number | null, number | null | undefined, number | null>;
  survey_comment: ColumnType<string | null, string | null | undefined, string | null>;
  survey_answered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  write_up_due_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  write_up_state: ColumnType<'awaiting' | 'submitted' | 'returned' | 'approved' | null, 'awaiting' | 'submitted' | 'returned' | 'approved' | null | undefined, 'awaiting' | 'submitted' | 'returned' | 'approved' | null>;
  write_up_version: ColumnType<number, number | undefined, number>;
  write_up_summary: ColumnType<string | null, string | null | undefined, string | null>;
  write_up_lessons: ColumnType<string | null, string | null | undefined, string | null>;
  write_up_submitted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  write_up_review_comment: ColumnType<string | null, string | null | undefined, string | null>;
  write_up_reviewed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A device's life, append-only (a trigger refuses UPDATE and DELETE): one row per fault, repair and parts of each archived case. */
export interface DeviceHistoryTable {
  id: Generated<string>;
  device_id: string;
  case_id: string;
  kind: 'fault' | 'repair' | 'parts';
  summary: string;
  data: ColumnType<unknown, string | undefined, never>;
  occurred_at: ColumnType<Date, Date | string, never>;
  recorded_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface DoaClaimsTable {
  case_id: string;
  case_number: string;
  customer_id: string;
  contact_id: string;
  device_id: string;
  status: DoaClaimStatus;
  arrived_on: string;
  first_power_on_at: Timestamp;
  failed_at: Timestamp;
  symptoms: string;
  applied_by_end_user: boolean;
  applied_at: Timestamp;
  registered_by: string;
  registered_by_role: string;
  /** Each checked acceptance condition: what was found, by whom, when (ConditionChecks). */
  condition_checks: ColumnType<unknown, string | undefined, string>;
  decision: DoaDecisionOutcome | null;
  /** Every failed condition of the decision (FailedCondition[]), in the order of the rules. */
  failed_conditions: ColumnType<unknown, string | null | undefined, string | null>;
  carrier_claim_advised: boolean | null;
  decided_at: Timestamp | null;
  decided_by: string | null;
  replacement_approved_at: Timestamp | null;
  replacement_approved_by: string | null;
  replacement_serial: string | null;
  replacement_carrier: string | null;
  replacement_tracking_number: string | null;
  replacement_shipped_at: Timestamp | null;
  replacement_device_id: string | null;
  replacement_warranty_end: string | null;
  receipt_confirmed_at: Timestamp | null;
  unit_returned_at: Timestamp | null;
  unit_return_note: string | null;
  conversion: DoaConversionAnswer | null;
  conversion_offer_ends_at: Timestamp | null;
  conversion_answered_at: Timestamp | null;
  rma_case_id: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

/** The types evidence may have, judged by the file's bytes (file-type), never by its name. */
export const EVIDENCE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

/** A file uploaded to a case as evidence (claims stand or fall on it); append-only. */
export interface EvidenceFilesTable {
  id: Generated<string>;
  case_id: string;
  /** Which piece of required evidence it is (e.g. "delivery note marked damaged"); null when not said. */
  item: string | null;
  file_name: string;
  /** The Content-Type the uploader's client declared; kept for the record, never trusted. */
  declared_type: string | null;
  sniffed_type: EvidenceType;
  size_bytes: number;
  sha256: string;
  content: Buffer;
  /** A small WebP of an image, for the case page; null for PDFs. */
  thumbnail: Buffer | null;
  uploaded_by: string;
  uploaded_by_role: string;
  uploaded_at: Timestamp;
}

/** A goods claim (workflows/goods-claim/definitions.ts): transport damage or wrong, missing or extra goods. */
export interface GoodsClaimsTable {
  case_id: string;
  claim_number: string;
  customer_id: string;
  contact_id: string;
  kind: 'transport_damage' | 'wrong_missing_extra';
  status: string;
  /** 'YYYY-MM-DD', arrival day = day 0 of the window. */
  arrived_on: string;
  claimed_at: Timestamp;
  /** The rules' window as decided at registration (claimWindow): last day, its end, the day of the claim. */
  window_last_day: string;
  window_deadline_at: Timestamp;
  day_of_claim: number;
  /** Transport damage: we carried the goods (always true for an accepted one); null for the other kind. */
  carried_by_us: boolean | null;
  device_serials: string[];
  /** workflows/goods-claim/evidence.ts ClaimIdentifiers. */
  identifiers: ColumnType<Record<string, unknown>, string | undefined, string>;
  description: string;
  registered_by: string;
  registered_by_role: string;
  evidence_requested_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  evidence_chase_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  evidence_chased_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  evidence_completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  lapsed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  outcome: 'replacement' | 'credit' | 'refusal' | null;
  carrier: string | null;
  tracking_number: string | null;
  credit_amount_cents: number | null;
  refusal_reason: string | null;
  resolution_note: string | null;
  resolved_by: string | null;
  resolved_by_role: string | null;
  resolved_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

/** An emergency incident (workflows/incident/definitions.ts), up to restoration. */
export interface IncidentsTable {
  case_id: string;
  case_number: string;
  customer_id: string;
  contact_id: string;
  site_id: string | null;
  device_id: string | null;
  product_id: string | null;
  origin: 'desk' | 'engineer' | 'fault_repair_escalation' | 'window_overrun';
  origin_case_id: string | null;
  symptom: string;
  symptom_code: string;
  started_at: Timestamp;
  reported_at: Timestamp;
  reported_by: string;
  reported_by_role: string;
  status: string;
  level: number | null;
  rules_level: number | null;
  /** The grading rules that matched (workflows/rules/grading.ts GradingRule[]). */
  grading_rules: Json | null;
  impact: Json | null;
  graded_at: Timestamp | null;
  graded_by: string | null;
  customer_stated_cause: 'power' | 'air_conditioning' | 'cable' | null;
  customer_cause_statement: string | null;
  continues_case_id: string | null;
  fault_repair_case_id: string | null;
  not_an_incident_reason: string | null;
  ladder_level: Generated<number>;
  ladder_entered_at: Timestamp;
  next_escalation_at: Timestamp | null;
  arrived_on_site_at: Timestamp | null;
  /** Each ladder level entered: { level, enteredAt, escalateAt, reason }. */
  ladder_history: Generated<Json>;
  standby_serial: string | null;
  standby_installed_at: Timestamp | null;
  standby_switched_back_at: Timestamp | null;
  standby_chase_count: Generated<number>;
  standby_last_chased_at: Timestamp | null;
  interrupted_at: Timestamp | null;
  restored_at: Timestamp | null;
  close_out_round: Generated<number>;
  reopened_count: Generated<number>;
  closed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface IncidentExpertGroupMembersTable {
  id: Generated<string>;
  case_id: string;
  user_id: string;
  specialty: 'host' | 'network' | 'database' | 'application';
  coordinator: boolean;
  added_at: Timestamp;
  added_by: string;
  removed_at: Timestamp | null;
  removed_by: string | null;
}

export interface IncidentRecoveryPlansTable {
  document_id: string;
  case_id: string;
  test_required: boolean;
  started_by: string;
  started_at: Timestamp;
}

export interface IncidentPlanImplementationsTable {
  id: Generated<string>;
  case_id: string;
  document_id: string;
  version: number;
  implemented_by: 'our_team' | 'customer';
  implemented_at: Timestamp;
  restored: boolean;
  note: string | null;
  recorded_by: string;
  recorded_at: Timestamp;
}

export interface ContingencyPlansTable {
  id: Generated<string>;
  customer_id: string;
  site_id: string | null;
  product_id: string | null;
  title: string;
  /** string[] */
  steps: Json;
  owner_user_id: string;
  created_by: string;
  created_at: CreatedAt;
}

export interface IncidentContingencyPlansTable {
  case_id: string;
  contingency_plan_id: string;
  started_at: Timestamp;
}

export interface VendorContactsTable {
  id: Generated<string>;
  product_line: ProductLine;
  name: string;
  email: string;
  created_by: string;
  created_at: CreatedAt;
}

export interface IncidentDutiesTable {
  duty: 'chief_engineer' | 'technical_director';
  user_id: string;
  assigned_by: string;
  assigned_at: Timestamp;
}

export interface Database {
  customers: CustomersTable;
  contacts: ContactsTable;
  sites: SitesTable;
  products: ProductsTable;
  devices: DevicesTable;
  users: UsersTable;
  console_sessions: ConsoleSessionsTable;
  cases: CasesTable;
  audit_events: AuditEventsTable;
  email_outbox: EmailOutboxTable;
  invoice_lines: InvoiceLinesTable;
  signed_link_uses: SignedLinkUsesTable;
  spare_part_loans: SparePartLoansTable;
  rma_repairs: RmaRepairsTable;
  rma_repair_parts: RmaRepairPartsTable;
  calendar_years: CalendarYearsTable;
  calendar_days: CalendarDaysTable;
  idempotency_keys: IdempotencyKeysTable;
  documents: DocumentsTable;
  document_versions: DocumentVersionsTable;
  document_decisions: DocumentDecisionsTable;
  fault_repairs: FaultRepairsTable;
  device_history: DeviceHistoryTable;
  evidence_files: EvidenceFilesTable;
  doa_claims: DoaClaimsTable;
  incidents: IncidentsTable;
  incident_expert_group_members: IncidentExpertGroupMembersTable;
  incident_recovery_plans: IncidentRecoveryPlansTable;
  incident_plan_implementations: IncidentPlanImplementationsTable;
  contingency_plans: ContingencyPlansTable;
  incident_contingency_plans: IncidentContingencyPlansTable;
  vendor_contacts: VendorContactsTable;
  incident_duties: IncidentDutiesTable;
  incident_close_outs: IncidentCloseOutsTable;
  goods_claims: GoodsClaimsTable;
  rectification_campaigns: RectificationCampaignsTable;
  rectification_customers: RectificationCustomersTable;
  rectification_devices: RectificationDevicesTable;
  customer_busy_hours: CustomerBusyHoursTable;
  customer_protected_periods: CustomerProtectedPeriodsTable;
  rectification_sites: RectificationSitesTable;
  rectification_slot_moves: RectificationSlotMovesTable;
  rectification_site_attempts: RectificationSiteAttemptsTable;
  rectification_returned_parts: RectificationReturnedPartsTable;
}

export type Customer = Selectable<CustomersTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
type NullableJson = ColumnType<unknown, string | null | undefined, string | null>;
/** One round of an incident's close-out (migration 2026-12-05T01). */
export interface IncidentCloseOutsTable {
  case_id: string;
  round: number;
  case_number: string;
  status: string;
  interrupted_at: Timestamp;
  restored_at: Timestamp;
  contact_id: string;
  incident_report_document_id: string;
  incident_report_signed_version: number | null;
  incident_report_signed_at: Timestamp | null;
  deadlines_provisional: Generated<boolean>;
  summary_due_at: Timestamp;
  summary_chase_at: Timestamp;
  summary_chased_at: Timestamp | null;
  summary_missed_at: Timestamp | null;
  summary_state: Generated<string>;
  summary_version: Generated<number>;
  summary_content: NullableJson;
  summary_submitted_at: Timestamp | null;
  summary_submitted_by: string | null;
  summary_writer_user_id: string | null;
  summary_reviewed_at: Timestamp | null;
  summary_reviewed_by: string | null;
  summary_review_comment: string | null;
  summary_customised: string | null;
  summary_customised_by: string | null;
  summary_delivered_at: Timestamp | null;
  summary_delivered_to: NullableJson;
  follow_up_due_at: Timestamp;
  follow_up_chased_at: Timestamp | null;
  follow_up_done_at: Timestamp | null;
  follow_up_by: string | null;
  follow_up_reached: boolean | null;
  follow_up_notes: string | null;
  group_summary_due_at: Timestamp;
  group_summary_chased_at: Timestamp | null;
  group_summary_submitted_at: Timestamp | null;
  group_summary_by: string | null;
  group_summary: string | null;
  group_summary_lessons: string | null;
  meeting_starts_at: Timestamp | null;
  meeting_ends_at: Timestamp | null;
  meeting_location: string | null;
  meeting_attendees: NullableJson;
  meeting_bookings: Generated<number>;
  meeting_scheduled_by: string | null;
  minutes: string | null;
  minutes_decisions: NullableJson;
  minutes_recorded_at: Timestamp | null;
  minutes_recorded_by: string | null;
  archived_at: Timestamp | null;
  superseded_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export type Contact = Selectable<ContactsTable>;
export type NewContact = Insertable<ContactsTable>;
export type Site = Selectable<SitesTable>;
export type NewSite = Insertable<SitesTable>;
export type Product = Selectable<ProductsTable>;
export type NewProduct = Insertable<ProductsTable>;
export type Device = Selectable<DevicesTable>;
export type NewDevice = Insertable<DevicesTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Case = Selectable<CasesTable>;
export type NewCase = Insertable<CasesTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type EmailOutboxRow = Selectable<EmailOutboxTable>;
export type InvoiceLine = Selectable<InvoiceLinesTable>;
export type NewInvoiceLine = Insertable<InvoiceLinesTable>;
export type SparePartLoan = Selectable<SparePartLoansTable>;
export type RmaRepair = Selectable<RmaRepairsTable>;
