// Fault repair (P1): the workflow's input, state, statuses, queries and updates, shared with the API.
// Only types, pure helpers and define* constants here: this module is bundled into workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

export const FAULT_REPAIR_STATUSES = [
  'diagnosis',
  'planning',
  'awaiting_dispatch',
  'dispatched',
  'on_site',
  'in_progress',
  'escalated',
  'reporting',
  'follow_up',
  'closed',
] as const;
export type FaultRepairStatus = (typeof FAULT_REPAIR_STATUSES)[number];

export const FAULT_REPAIR_FINAL_STATUSES: readonly FaultRepairStatus[] = ['closed'];
export const FAULT_REPAIR_OPEN_STATUSES: readonly FaultRepairStatus[] = FAULT_REPAIR_STATUSES.filter((status) => !FAULT_REPAIR_FINAL_STATUSES.includes(status));

export const FAULT_SEVERITIES = ['critical', 'major', 'serious', 'minor'] as const;
export type FaultSeverity = (typeof FAULT_SEVERITIES)[number];

/** The SLA targets of a case, and the milestone that meets each. */
export const SLA_TARGET_NAMES = ['phone_response', 'temporary_solution', 'on_site', 'restoration'] as const;
export type SlaTargetName = (typeof SLA_TARGET_NAMES)[number];
export const MILESTONES = ['first_response', 'temporary_solution', 'arrived_on_site', 'restored'] as const;
export type Milestone = (typeof MILESTONES)[number];
export const TARGET_OF_MILESTONE: Record<Milestone, SlaTargetName> = {
  first_response: 'phone_response',
  temporary_solution: 'temporary_solution',
  arrived_on_site: 'on_site',
  restored: 'restoration',
};
/** The share of a target's time after which the engineer (or the desk) is warned. */
export const WARNING_SHARE = 0.75;

/** Each human step of a case: the statuses it may start from (declared once: the workflow checks them). */
export const FAULT_REPAIR_STEPS = {
  recordMilestone: { from: ['diagnosis', 'planning', 'awaiting_dispatch', 'dispatched', 'on_site', 'in_progress', 'escalated'], action: 'record a milestone' },
  diagnose: { from: ['diagnosis'], action: 'record the remote diagnosis' },
  dispatch: { from: ['awaiting_dispatch'], action: 'dispatch an engineer' },
  // The desk books (or re-books) the visit while the engineer is on the way.
  bookAppointment: { from: ['dispatched'], action: 'book the appointment' },
  arrive: { from: ['dispatched'], action: 'record the arrival on site' },
  startWork: { from: ['on_site'], action: 'start work' },
  // On site, before work starts: a changed plan is a new version and goes through the sign-off again.
  revisePlan: { from: ['on_site'], action: 'revise the plan' },
  finishWork: { from: ['in_progress'], action: 'finish work' },
  // Stage 2: the fault report and the write-up may come once service is restored, before or after the service report is signed.
  submitFaultReport: { from: ['reporting', 'follow_up'], action: 'submit the fault report' },
  recordFollowUpCall: { from: ['follow_up'], action: 'record the follow-up call' },
  submitWriteUp: { from: ['reporting', 'follow_up'], action: 'submit the write-up' },
  reviewWriteUp: { from: ['reporting', 'follow_up'], action: 'review the write-up' },
  // After high-risk work overran its maintenance window: users affected -> an emergency incident dated at the window's end.
  reportOverrunImpact: { from: ['in_progress', 'escalated', 'reporting', 'follow_up'], action: "record the overrun's impact on users" },
} as const satisfies Record<string, StepRule<FaultRepairStatus>>;

export interface FaultRepairInput {
  caseId: string;
  caseNumber: string;
}

export type TargetState = 'pending' | 'met' | 'missed' | 'not_applicable';

/** One SLA target as computed once at registration and recorded, with how it went. */
export interface SlaTarget {
  name: SlaTargetName;
  /** ISO instant; null when the target does not apply (`rule` says why). */
  dueAt: string | null;
  /** 75 % of the target's time: when the engineer or the desk is warned. */
  warnAt: string | null;
  rule: { en: string; zh: string };
  state: TargetState;
  warnedAt: string | null;
  breachedAt: string | null;
  /** When its milestone was recorded as happening. */
  metAt: string | null;
  /** Minutes early (positive) or late (negative) of the milestone; null until recorded. */
  marginMinutes: number | null;
}

export interface DocumentProgress {
  documentId: string;
  status: string;
  version: number;
}

export interface FaultRepairState {
  caseNumber: string;
  status: FaultRepairStatus;
  targets: SlaTarget[];
  milestones: Partial<Record<Milestone, string>>;
  plan: DocumentProgress | null;
  report: DocumentProgress | null;
  engineerUserId: string | null;
  /** The signed plan version's high-risk operations: work starts only inside a maintenance window. */
  highRiskOperations: string[];
  /** End of the maintenance window the work started in (high-risk plans). */
  windowEndsAt: string | null;
  windowOverrunAt: string | null;
  /** The customer's maintenance window, as recorded when the plan was signed (absent: 00:00-05:00). */
  maintenanceWindow?: MaintenanceWindow;
  /** When the engineer was last reminded that a maintenance window opened (high-risk plans, before work). */
  windowRemindedAt?: string | null;
  /** When service was restored (stage 2 counts from it); null until then. */
  restoredAt: string | null;
  faultReport: FaultReportProgress;
  followUp: FollowUpProgress;
  writeUp: WriteUpProgress;
  /** Appointments booked: 1 at dispatch, one more per re-booking (each a new calendar update). */
  appointmentBookings?: number;
  /** Times the signed plan was reopened on site (each back through the sign-off). */
  planRevisions?: number;
  /** The incidents this case started (escalation, a window overrun affecting users); absent in older runs. */
  incidents?: { caseNumber: string; origin: 'fault_repair_escalation' | 'window_overrun' }[];
  /** Escalated: the incident that took the case over (the fault repair closes as `escalated`). */
  handedOverTo?: string | null;
  /** Whether the engineer or manager found users affected by a window overrun; null until said. */
  overrunUsersAffected?: boolean | null;
}

/** Stage 2 deadlines, computed once by an activity when restoration is recorded. */
export interface FollowUpDeadlines {
  faultReportDueAt: string;
  /** 2 h before the fault report is due: the engineer is chased. */
  faultReportChaseAt: string;
  writeUpDueAt: string;
}

export interface FaultReportProgress {
  dueAt: string | null;
  chaseAt: string | null;
  chasedAt: string | null;
  /** When the deadline passed without the report (the managers were told). */
  missedAt: string | null;
  submittedAt: string | null;
}

export interface FollowUpProgress {
  /** 2 days after the service report was signed. */
  dueAt: string | null;
  /** When the desk was chased (at the deadline). */
  chasedAt: string | null;
  /** When the managers were told (1 day after the deadline, call still not recorded). */
  escalatedAt: string | null;
  calledAt: string | null;
  reached: boolean | null;
}

export const WRITE_UP_STATES = ['awaiting', 'submitted', 'returned', 'approved'] as const;
export type WriteUpState = (typeof WRITE_UP_STATES)[number];
export interface WriteUpProgress {
  dueAt: string | null;
  state: WriteUpState;
  version: number;
  /** When the engineer was chased (at the deadline, the write-up not in); absent in runs before the chase. */
  chasedAt?: string | null;
  /** When the managers were told (a day after the deadline, still not in). */
  escalatedAt?: string | null;
}

/** The fault report's seven items [003 2.2.6]. */
export interface FaultReportContent {
  /** 1. times: reported, remote support, on site (null: none), restored. */
  reportedAt: string;
  remoteSupportAt: string | null;
  onSiteAt: string | null;
  restoredAt: string;
  /** 2. our support engineers, and the customer's engineers who worked with them. */
  engineers: string[];
  customerEngineers: string[];
  /** 3. symptoms and business impact. */
  symptomsAndImpact: string;
  /** 4. what was done. */
  resolutionProcess: string;
  /** 5. root cause analysis. */
  rootCause: string;
  /** 6. the solution. */
  solution: string;
  /** 7. advice to avoid it again. */
  preventionAdvice: string;
}

export interface MilestoneInput extends ActorStamp {
  milestone: 'first_response' | 'temporary_solution';
  /** When it happened (ISO); the workflow's time when absent. */
  occurredAt: string | null;
  note: string | null;
}
export interface DiagnosisInput extends ActorStamp {
  outcome: 'solved_remotely' | 'needs_plan';
  /** The engineer who diagnosed it: the case's engineer when solved remotely (chased for the fault report). */
  engineerUserId?: string | null;
  findings: string;
  /** For solved_remotely: when service was restored; the workflow's time when absent. */
  restoredAt: string | null;
}
export interface DispatchInput extends ActorStamp {
  engineerUserId: string;
  engineerName: string;
  appointmentAt: string;
}
export interface AppointmentInput extends ActorStamp {
  appointmentAt: string;
}
export interface PlanRevisionInput extends ActorStamp {
  reason: string;
}
export interface ArrivalInput extends ActorStamp {
  arrivedAt: string | null;
}
export type StartWorkInput = ActorStamp;
export interface FinishWorkInput extends ActorStamp {
  fixed: boolean;
  result: string;
  /** When fixed: when service was restored; the workflow's time when absent. */
  restoredAt: string | null;
}

export interface FaultReportInput extends ActorStamp {
  report: FaultReportContent;
}
export interface FollowUpCallInput extends ActorStamp {
  reached: boolean;
  notes: string | null;
}
export interface WriteUpInput extends ActorStamp {
  summary: string;
  lessons: string;
}
export interface WriteUpReviewInput extends ActorStamp {
  decision: 'approved' | 'returned';
  comment: string | null;
}

export const faultRepairStateQuery = defineQuery<FaultRepairState>('faultRepairState');
export const recordFaultRepairMilestoneUpdate = defineUpdate<FaultRepairState, [MilestoneInput]>('recordFaultRepairMilestone');
export const diagnoseFaultRepairUpdate = defineUpdate<FaultRepairState, [DiagnosisInput]>('diagnoseFaultRepair');
export const dispatchFaultRepairUpdate = defineUpdate<FaultRepairState, [DispatchInput]>('dispatchFaultRepair');
export const bookFaultRepairAppointmentUpdate = defineUpdate<FaultRepairState, [AppointmentInput]>('bookFaultRepairAppointment');
export const reviseFaultRepairPlanUpdate = defineUpdate<FaultRepairState, [PlanRevisionInput]>('reviseFaultRepairPlan');
export const arriveFaultRepairUpdate = defineUpdate<FaultRepairState, [ArrivalInput]>('arriveFaultRepair');
export interface OverrunImpactInput extends ActorStamp {
  usersAffected: boolean;
  note: string | null;
}
export const reportFaultRepairOverrunImpactUpdate = defineUpdate<FaultRepairState, [OverrunImpactInput]>('reportFaultRepairOverrunImpact');
export const startFaultRepairWorkUpdate = defineUpdate<FaultRepairState, [StartWorkInput]>('startFaultRepairWork');
export const finishFaultRepairWorkUpdate = defineUpdate<FaultRepairState, [FinishWorkInput]>('finishFaultRepairWork');
export const submitFaultReportUpdate = defineUpdate<FaultRepairState, [FaultReportInput]>('submitFaultRepairFaultReport');
export const recordFollowUpCallUpdate = defineUpdate<FaultRepairState, [FollowUpCallInput]>('recordFaultRepairFollowUpCall');
export const submitWriteUpUpdate = defineUpdate<FaultRepairState, [WriteUpInput]>('submitFaultRepairWriteUp');
export const reviewWriteUpUpdate = defineUpdate<FaultRepairState, [WriteUpReviewInput]>('reviewFaultRepairWriteUp');

/** Stage 2's periods. */
export const FAULT_REPORT_CHASE_BEFORE_MS = 2 * 3_600_000;
export const FOLLOW_UP_DAYS = 2;
export const FOLLOW_UP_ESCALATION_AFTER_MS = 24 * 3_600_000;
export const WRITE_UP_DAYS = 7;
/** The write-up not in at its deadline: the engineer chased then, the managers told this much later. */
export const WRITE_UP_ESCALATION_AFTER_MS = 24 * 3_600_000;

export function faultRepairWorkflowId(caseNumber: string): string {
  return `fault-repair/${caseNumber}`;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const SHANGHAI_OFFSET = 8 * HOUR;
const DAY = 24 * HOUR;
/** The maintenance window for high-risk operations: 00:00-05:00 Asia/Shanghai [004 1.4.3], unless the customer has its own. */
export const MAINTENANCE_WINDOW = { startHour: 0, endHour: 5, timeZone: 'Asia/Shanghai' } as const;

/** A customer's daily maintenance window: minutes after midnight China time, start < end (0..1440). */
export interface MaintenanceWindow {
  startMinute: number;
  endMinute: number;
}
export const DEFAULT_MAINTENANCE_WINDOW: MaintenanceWindow = { startMinute: MAINTENANCE_WINDOW.startHour * 60, endMinute: MAINTENANCE_WINDOW.endHour * 60 };

/** The window to use: the customer's when known (histories recorded before it existed have none: the default). */
export function windowOrDefault(window: MaintenanceWindow | null | undefined): MaintenanceWindow {
  return window && Number.isInteger(window.startMinute) && Number.isInteger(window.endMinute) && window.startMinute < window.endMinute ? window : DEFAULT_MAINTENANCE_WINDOW;
}

/** Minutes after midnight as 'HH:MM' (1440 is '24:00'). */
export function minuteOfDayText(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** 'HH:MM' (00:00-24:00) as minutes after midnight, or null when malformed. */
export function parseMinuteOfDay(text: string): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) return null;
  return hours * 60 + minutes;
}

/** The maintenance window containing `ms`, or null when `ms` is outside every window. */
export function maintenanceWindowAt(ms: number, window: MaintenanceWindow = DEFAULT_MAINTENANCE_WINDOW): { start: number; end: number } | null {
  const dayStart = Math.floor((ms + SHANGHAI_OFFSET) / DAY) * DAY - SHANGHAI_OFFSET;
  const start = dayStart + window.startMinute * MINUTE;
  const end = dayStart + window.endMinute * MINUTE;
  return ms >= start && ms < end ? { start, end } : null;
}

/** The start of the next maintenance window after `ms` (`ms` itself is outside one, or inside the one before). */
export function nextMaintenanceWindowStart(ms: number, window: MaintenanceWindow = DEFAULT_MAINTENANCE_WINDOW): number {
  const dayStart = Math.floor((ms + SHANGHAI_OFFSET) / DAY) * DAY - SHANGHAI_OFFSET;
  const today = dayStart + window.startMinute * MINUTE;
  return ms < today ? today : today + DAY;
}

/** An instant as Asia/Shanghai wall time with its offset, e.g. `2026-11-17T00:00:00+08:00`. */
export function shanghaiIso(ms: number): string {
  return new Date(ms + SHANGHAI_OFFSET).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}
