// Emergency incident (P2), up to restoration: the workflow's input, state, statuses, queries, updates
// and signals, shared with the API. Only types, pure helpers and define* constants here: this module is
// bundled into workflow code. The grading tables and the ladder are workflows/rules/grading.ts.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { GradingRule, IncidentLevel, LadderLevel, NmsOutage, SecurityIncidentKind, DataImportance, FireDevice } from '../rules/grading';
import type { StepRule } from '../shared/case-steps';
import type { ActorStamp } from '../shared/definitions';

/**
 * registered: waits for the manager's grading (the ladder already runs); in_recovery: graded, being
 * worked on; restored: service restored, the close-out runs and the 24-hour watch is on; closed: the
 * close-out archived it; not_an_incident: the manager decided it is not one (it goes on as a fault
 * repair); continued: this notice was the same symptom within 24 h of an earlier incident's recovery
 * and was recorded on that incident, which reopened.
 */
export const INCIDENT_STATUSES = ['registered', 'in_recovery', 'restored', 'closed', 'not_an_incident', 'continued'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const INCIDENT_FINAL_STATUSES: readonly IncidentStatus[] = ['closed', 'not_an_incident', 'continued'];
export const INCIDENT_OPEN_STATUSES: readonly IncidentStatus[] = INCIDENT_STATUSES.filter((status) => !INCIDENT_FINAL_STATUSES.includes(status));

export const INCIDENT_ORIGINS = ['desk', 'engineer', 'fault_repair_escalation', 'window_overrun'] as const;
export type IncidentOrigin = (typeof INCIDENT_ORIGINS)[number];

/** The expert group's specialties [003 内部问题升级: 主机、网络、数据库、应用]. */
export const EXPERT_SPECIALTIES = ['host', 'network', 'database', 'application'] as const;
export type ExpertSpecialty = (typeof EXPERT_SPECIALTIES)[number];

/** Causes on the customer's side that may be reported from level 3 when the customer states them. */
export const CUSTOMER_STATED_CAUSES = ['power', 'air_conditioning', 'cable'] as const;
export type CustomerStatedCause = (typeof CUSTOMER_STATED_CAUSES)[number];

/** Who the incident duties name: the chief engineer is informed at ladder level 3, the technical director goes on site at level 4. */
export const INCIDENT_DUTIES = ['chief_engineer', 'technical_director'] as const;
export type IncidentDuty = (typeof INCIDENT_DUTIES)[number];

export const PLAN_IMPLEMENTERS = ['our_team', 'customer'] as const;
export type PlanImplementer = (typeof PLAN_IMPLEMENTERS)[number];

/** The recovery plan's sign-off: the manager approves, the test (when the manager requires one) passes, the customer confirms. */
export const RECOVERY_PLAN_STEPS = ['manager_approval', 'customer_signature'] as const;
export const RECOVERY_PLAN_STEPS_WITH_TEST = ['manager_approval', 'acceptance_test', 'customer_signature'] as const;

/** A standby unit lent at ladder level 4 must be switched back after restoration: chased on each working day at this hour, China time. */
export const STANDBY_CHASE_HOUR = 9;
/** The watch after restoration: the same symptom again within this long continues the incident. */
export const RECURRENCE_WATCH_MS = 24 * 3_600_000;

/** Each human step: the statuses it may start from (declared once: the workflow checks them). */
export const INCIDENT_STEPS = {
  grade: { from: ['registered', 'in_recovery', 'restored'], action: 'grade the incident' },
  declareNotAnIncident: { from: ['registered'], action: 'decide it is not an incident' },
  setExpertGroup: { from: ['registered', 'in_recovery'], action: 'form or change the expert group' },
  startRecoveryPlan: { from: ['registered', 'in_recovery'], action: 'start a recovery plan' },
  recordImplementation: { from: ['registered', 'in_recovery'], action: 'record the recovery plan implemented' },
  arrive: { from: ['registered', 'in_recovery'], action: 'record the arrival on site' },
  lendStandbyUnit: { from: ['registered', 'in_recovery'], action: 'record the standby unit installed' },
  restore: { from: ['in_recovery'], action: 'record the restoration' },
  switchBackStandbyUnit: { from: ['restored', 'closed'], action: 'record the standby unit switched back' },
} as const satisfies Record<string, StepRule<IncidentStatus>>;

export interface IncidentInput {
  caseId: string;
  caseNumber: string;
}

/** The impact the manager grades by (workflows/rules/grading.ts IncidentGradingInput, less what the database supplies). */
export interface IncidentImpact {
  affectedUsers?: number | undefined;
  serviceLostPercent?: number | undefined;
  serverChassisOrMultipleDevices?: boolean | undefined;
  unrecoverableDataLoss?: DataImportance | null | undefined;
  nmsOutage?: NmsOutage | null | undefined;
  securityIncidents?: readonly SecurityIncidentKind[] | undefined;
  fire?: FireDevice | null | undefined;
  customerStronglyDissatisfied?: boolean | undefined;
}

export interface GradingInput extends ActorStamp {
  impact: IncidentImpact;
  /** A cause the customer states is theirs: the incident may be reported from level 3 (the statement is recorded). */
  customerStatedCause: { cause: CustomerStatedCause; statement: string } | null;
}

/** What a grading decided, as recorded (computed by an activity from the customer, the product and the history). */
export interface GradingOutcome {
  level: IncidentLevel;
  /** The level the rules gave before a customer-stated cause lowered the reporting level. */
  rulesLevel: IncidentLevel;
  rules: GradingRule[];
  /** The incident this one continues (same symptom within 24 h of its recovery): this one ends as `continued`. */
  continuesCaseNumber: string | null;
  gradedAt: string;
}

export interface NotAnIncidentInput extends ActorStamp {
  reason: string;
  /** The fault repair this notice goes on as (registered by the API before the update). */
  faultRepairCaseId: string;
  faultRepairCaseNumber: string;
}

export interface ExpertGroupMemberInput {
  userId: string;
  specialty: ExpertSpecialty;
  coordinator: boolean;
}
export interface ExpertGroupInput extends ActorStamp {
  members: ExpertGroupMemberInput[];
}

export interface RecoveryPlanStartInput extends ActorStamp {
  title: string;
  testRequired: boolean;
}

export interface ImplementationInput extends ActorStamp {
  documentId: string;
  implementedBy: PlanImplementer;
  implementedAt: string;
  restored: boolean;
  note: string | null;
}

export interface ArrivalInput extends ActorStamp {
  arrivedAt: string;
}

export interface StandbyUnitInput extends ActorStamp {
  serial: string;
  installedAt: string;
  note: string | null;
}

export interface RestorationInput extends ActorStamp {
  interruptedAt: string;
  restoredAt: string;
}

export interface SwitchBackInput extends ActorStamp {
  switchedBackAt: string;
  note: string | null;
}

/** Sent by a new notice's workflow to the incident it continues (same symptom within 24 h of recovery). */
export interface RecurrenceNotice {
  caseId: string;
  caseNumber: string;
  occurredAt: string;
}

export interface LadderPosition {
  level: LadderLevel;
  enteredAt: string;
  /** When it moves up if still not restored; null at level 4, while level 2 waits for the arrival, or once restored. */
  escalateAt: string | null;
  arrivedOnSiteAt: string | null;
}

export interface RecoveryPlanProgress {
  documentId: string;
  status: string;
  version: number;
  testRequired: boolean;
}

export interface IncidentState {
  caseNumber: string;
  status: IncidentStatus;
  level: IncidentLevel | null;
  ladder: LadderPosition;
  plans: RecoveryPlanProgress[];
  standbyUnit: { serial: string; installedAt: string; switchedBackAt: string | null; chasedAt: string[] } | null;
  restoredAt: string | null;
  /** Close-out rounds started (1, then 2.. after a continuation reopened the incident). */
  closeOutRound: number;
  reopenedAt: string[];
  continuedBy: string[];
}

export const incidentStateQuery = defineQuery<IncidentState>('incidentState');
export const gradeIncidentUpdate = defineUpdate<IncidentState, [GradingInput]>('gradeIncident');
export const declareNotAnIncidentUpdate = defineUpdate<IncidentState, [NotAnIncidentInput]>('declareNotAnIncident');
export const setIncidentExpertGroupUpdate = defineUpdate<IncidentState, [ExpertGroupInput]>('setIncidentExpertGroup');
export const startIncidentRecoveryPlanUpdate = defineUpdate<IncidentState, [RecoveryPlanStartInput]>('startIncidentRecoveryPlan');
export const recordIncidentImplementationUpdate = defineUpdate<IncidentState, [ImplementationInput]>('recordIncidentImplementation');
export const arriveIncidentUpdate = defineUpdate<IncidentState, [ArrivalInput]>('arriveIncident');
export const lendIncidentStandbyUnitUpdate = defineUpdate<IncidentState, [StandbyUnitInput]>('lendIncidentStandbyUnit');
export const restoreIncidentUpdate = defineUpdate<IncidentState, [RestorationInput]>('restoreIncident');
export const switchBackIncidentStandbyUnitUpdate = defineUpdate<IncidentState, [SwitchBackInput]>('switchBackIncidentStandbyUnit');
export const incidentRecurredSignal = defineSignal<[RecurrenceNotice]>('incidentRecurred');

export const incidentWorkflowId = (caseNumber: string) => `incident/${caseNumber}`;

/** "The same symptom" is equal codes: the symptom text lower-cased with its whitespace and trailing punctuation folded. */
export function symptomCode(symptom: string): string {
  return symptom
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '')
    .slice(0, 200);
}
