// Incident close-out (P2 "After restoration", 003 2.2 steps 8-15, 004 第八部分 240-280): everything
// after an incident's restoration, as a child workflow of the incident. Its input, state, statuses,
// queries and updates, shared with the API. Only types, pure helpers and define* constants here:
// this module is bundled into workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

/** What the incident core starts the close-out with at restoration (one round per restoration). */
export interface IncidentCloseOutInput {
  caseId: string;
  caseNumber: string;
  /** ISO instants, as recorded by the incident core. */
  restoredAt: string;
  interruptedAt: string;
  /** 1, or 2.. after a continuation (the same symptom within 24 h) reopened the incident. */
  round: number;
}

export interface IncidentCloseOutResult {
  /** When the round was archived; null: cancelled because the incident reopened (the round is superseded). */
  archivedAt: string | null;
}

export function incidentCloseOutWorkflowId(caseNumber: string): string {
  return `incident-close-out/${caseNumber}`;
}

/**
 * A round's statuses: `reporting` (the incident report, the summary report, the follow-up and the
 * group summary), `review_meeting` (all four in: the review meeting and its minutes), `archived`;
 * `superseded` when the incident reopened before the archive (its deadlines are no longer chased).
 */
export const INCIDENT_CLOSE_OUT_STATUSES = ['reporting', 'review_meeting', 'archived', 'superseded'] as const;
export type IncidentCloseOutStatus = (typeof INCIDENT_CLOSE_OUT_STATUSES)[number];
export const INCIDENT_CLOSE_OUT_FINAL_STATUSES: readonly IncidentCloseOutStatus[] = ['archived', 'superseded'];

/**
 * The emergency-recovery summary report: written by an engineer or the group's coordinator
 * (`submitted`), reviewed by the manager (`returned` with a comment, or `approved`), then customised
 * for the customer by the manager and delivered to the customer's supervisor (`delivered`).
 */
export const SUMMARY_REPORT_STATES = ['awaiting', 'submitted', 'returned', 'approved', 'delivered'] as const;
export type SummaryReportState = (typeof SUMMARY_REPORT_STATES)[number];

/** The summary report's deadline: reviewed and customised within 1 working day of restoration [004 第八部分 270]. */
export const SUMMARY_REPORT_WORKING_DAYS = 1;
/** The writer is chased at this Asia/Shanghai hour of the deadline's day, when no version waits for review. */
export const SUMMARY_REPORT_CHASE_HOUR = 9;
/** The customer is called back within 2 days of restoration [003 2.2 step 11]. */
export const FOLLOW_UP_DAYS = 2;
/** The expert group's summary is written within a week [003 2.2 step 13]. */
export const GROUP_SUMMARY_DAYS = 7;
/** How long the review meeting is booked for when its end is not given. */
export const REVIEW_MEETING_DEFAULT_MINUTES = 60;

/** Each human step: the statuses it may start from (declared once: the workflow checks them). */
export const INCIDENT_CLOSE_OUT_STEPS = {
  submitSummaryReport: { from: ['reporting', 'review_meeting'], action: 'submit the summary report' },
  reviewSummaryReport: { from: ['reporting', 'review_meeting'], action: 'review the summary report' },
  customiseSummaryReport: { from: ['reporting', 'review_meeting'], action: 'customise and deliver the summary report' },
  recordFollowUp: { from: ['reporting', 'review_meeting'], action: 'record the follow-up' },
  submitGroupSummary: { from: ['reporting', 'review_meeting'], action: "submit the expert group's summary" },
  scheduleReviewMeeting: { from: ['reporting', 'review_meeting'], action: 'schedule the review meeting' },
  recordMinutes: { from: ['review_meeting'], action: "record the review meeting's minutes" },
} as const satisfies Record<string, StepRule<IncidentCloseOutStatus>>;

export interface DocumentProgress {
  documentId: string;
  status: string;
  version: number;
}

/** A deadline with its chase and, where one exists, its miss notice; all ISO instants. */
export interface SummaryReportProgress {
  dueAt: string | null;
  chaseAt: string | null;
  chasedAt: string | null;
  /** When the deadline passed before the report was customised (the managers were told, once). */
  missedAt: string | null;
  state: SummaryReportState;
  version: number;
  deliveredAt: string | null;
}

export interface FollowUpProgress {
  dueAt: string | null;
  chasedAt: string | null;
  doneAt: string | null;
}

export interface GroupSummaryProgress {
  dueAt: string | null;
  chasedAt: string | null;
  submittedAt: string | null;
}

export interface ReviewMeetingProgress {
  startsAt: string | null;
  endsAt: string | null;
  /** 0 until scheduled; one more per rescheduling (the invitation's SEQUENCE follows it). */
  bookings: number;
  minutesRecordedAt: string | null;
}

export interface IncidentCloseOutState {
  caseNumber: string;
  round: number;
  status: IncidentCloseOutStatus;
  restoredAt: string;
  interruptedAt: string;
  incidentReport: DocumentProgress | null;
  summaryReport: SummaryReportProgress;
  followUp: FollowUpProgress;
  groupSummary: GroupSummaryProgress;
  meeting: ReviewMeetingProgress;
  archivedAt: string | null;
  supersededAt: string | null;
}

/** The deadlines of a round, computed once by an activity when it starts and recorded on the round. */
export interface CloseOutDeadlines {
  summaryReportDueAt: string;
  summaryReportChaseAt: string;
  followUpDueAt: string;
  groupSummaryDueAt: string;
  /** The working-day count went through a year the calendar has not published (Monday-Friday was used). */
  provisional: boolean;
}

/** The emergency-recovery summary report's content [004 第八部分 250]. */
export interface SummaryReportContent {
  /** What happened and what it affected. */
  impact: string;
  /** How it was handled, in order. */
  process: string;
  /** The result: what was restored, and how. */
  result: string;
  rootCause: string;
  /** What is recommended to avoid it again. */
  recommendations: string;
}

/** The customised report as the customer's supervisor receives it. */
export interface CustomisedSummaryReport {
  /** Addressed to the customer: the report as they should read it. */
  text: string;
}

export interface ReviewMeetingAttendee {
  name: string;
  email: string;
}

export interface SubmitSummaryReportInput extends ActorStamp {
  userId: string | null;
  content: SummaryReportContent;
}
export interface ReviewSummaryReportInput extends ActorStamp {
  decision: 'approved' | 'returned';
  comment: string | null;
}
export interface CustomiseSummaryReportInput extends ActorStamp {
  customised: CustomisedSummaryReport;
}
export interface FollowUpInput extends ActorStamp {
  reached: boolean;
  notes: string | null;
}
export interface GroupSummaryInput extends ActorStamp {
  userId: string | null;
  /** The group's account of the handling, with the recovery plan's outcome [003 2.2 step 13]. */
  summary: string;
  lessons: string;
}
export interface ScheduleReviewMeetingInput extends ActorStamp {
  startsAt: string;
  endsAt: string;
  location: string;
  attendees: ReviewMeetingAttendee[];
}
export interface MinutesInput extends ActorStamp {
  minutes: string;
  decisions: string[];
}

export const incidentCloseOutStateQuery = defineQuery<IncidentCloseOutState>('incidentCloseOutState');
export const submitIncidentSummaryReportUpdate = defineUpdate<IncidentCloseOutState, [SubmitSummaryReportInput]>('submitIncidentSummaryReport');
export const reviewIncidentSummaryReportUpdate = defineUpdate<IncidentCloseOutState, [ReviewSummaryReportInput]>('reviewIncidentSummaryReport');
export const customiseIncidentSummaryReportUpdate = defineUpdate<IncidentCloseOutState, [CustomiseSummaryReportInput]>('customiseIncidentSummaryReport');
export const recordIncidentFollowUpUpdate = defineUpdate<IncidentCloseOutState, [FollowUpInput]>('recordIncidentFollowUp');
export const submitIncidentGroupSummaryUpdate = defineUpdate<IncidentCloseOutState, [GroupSummaryInput]>('submitIncidentGroupSummary');
export const scheduleIncidentReviewMeetingUpdate = defineUpdate<IncidentCloseOutState, [ScheduleReviewMeetingInput]>('scheduleIncidentReviewMeeting');
export const recordIncidentMinutesUpdate = defineUpdate<IncidentCloseOutState, [MinutesInput]>('recordIncidentReviewMinutes');

/** The round's deadline alerts: who is told and what is recorded. */
export const CLOSE_OUT_ALERT_KINDS = ['summary_report_chase', 'summary_report_missed', 'follow_up_due', 'group_summary_due'] as const;
export type CloseOutAlertKind = (typeof CLOSE_OUT_ALERT_KINDS)[number];
