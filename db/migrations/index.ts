import type { Migration } from 'kysely';
import * as foundation from './2026-11-21T00-00-00_foundation';
import * as sparePartLoans from './2026-11-21T12-00-00_spare_part_loans';
import * as businessCalendar from './2026-11-22T00-00-00_business_calendar';
import * as emailOutboxRelay from './2026-11-23T00-00-00_email_outbox_relay';
import * as idempotencyKeys from './2026-11-24T00-00-00_idempotency_keys';
import * as caseNumberSequences from './2026-12-02T00-00-00_case_number_sequences';
import * as documents from './2026-12-02T12-00-00_documents';
import * as emailHtml from './2026-12-02T18-00-00_email_html';
import * as faultRepairs from './2026-12-02T20-00-00_fault_repairs';
import * as faultRepairFollowUp from './2026-12-02T22-00-00_fault_repair_follow_up';
import * as emailCalendarInvite from './2026-12-02T23-00-00_email_calendar_invite';
import * as documentReopening from './2026-12-03T00-00-00_document_reopening';
import * as customerMaintenanceWindow from './2026-12-03T01-00-00_customer_maintenance_window';
import * as goodsEvidence from './2026-12-04T00-00-00_goods_evidence';
import * as goodsClaims from './2026-12-04T01-00-00_goods_claims';
import * as rmaRepairProcess from './2026-12-04T02-00-00_rma_repair_process';
import * as doaClaims from './2026-12-04T03-00-00_doa_claims';
import * as incidents from './2026-12-05T00-00-00_incidents';
import * as incidentCloseOut from './2026-12-05T01-00-00_incident_close_out';
import * as rectificationCampaigns from './2026-12-06T00-00-00_rectification_campaigns';
import * as rectificationSites from './2026-12-06T01-00-00_rectification_sites';
import * as consoleSessions from './2026-12-07T00-00-00_console_sessions';
import * as rateLimits from './2026-12-07T01-00-00_rate_limits';

/**
 * Every migration, by name. Names are ISO dates so they sort in the order they must run.
 * A static list (rather than reading the folder) works the same under tsx, jest and a bundle.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-21T00-00-00_foundation': foundation,
  '2026-11-21T12-00-00_spare_part_loans': sparePartLoans,
  '2026-11-22T00-00-00_business_calendar': businessCalendar,
  '2026-11-23T00-00-00_email_outbox_relay': emailOutboxRelay,
  '2026-11-24T00-00-00_idempotency_keys': idempotencyKeys,
  '2026-12-02T00-00-00_case_number_sequences': caseNumberSequences,
  '2026-12-02T12-00-00_documents': documents,
  '2026-12-02T18-00-00_email_html': emailHtml,
  '2026-12-02T20-00-00_fault_repairs': faultRepairs,
  '2026-12-02T22-00-00_fault_repair_follow_up': faultRepairFollowUp,
  '2026-12-02T23-00-00_email_calendar_invite': emailCalendarInvite,
  '2026-12-03T00-00-00_document_reopening': documentReopening,
  '2026-12-03T01-00-00_customer_maintenance_window': customerMaintenanceWindow,
  '2026-12-04T00-00-00_goods_evidence': goodsEvidence,
  '2026-12-04T01-00-00_goods_claims': goodsClaims,
  '2026-12-04T02-00-00_rma_repair_process': rmaRepairProcess,
  '2026-12-04T03-00-00_doa_claims': doaClaims,
  '2026-12-05T00-00-00_incidents': incidents,
  '2026-12-05T01-00-00_incident_close_out': incidentCloseOut,
  '2026-12-06T00-00-00_rectification_campaigns': rectificationCampaigns,
  '2026-12-06T01-00-00_rectification_sites': rectificationSites,
  '2026-12-07T00-00-00_console_sessions': consoleSessions,
  '2026-12-07T01-00-00_rate_limits': rateLimits,
};
