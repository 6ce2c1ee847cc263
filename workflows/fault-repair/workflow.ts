import { ApplicationFailure, ParentClosePolicy, allHandlersFinished, condition, patched, proxyLocalActivities, setHandler, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import { incidentWorkflowId } from '../incident/definitions';
import { incidentWorkflow } from '../incident/workflow';
import type { Activities } from '../../activities';
import { INVALID_TRANSITION } from '../shared/definitions';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { untilOr } from '../shared/step-queue';
import { documentChangedSignal, signOffWorkflowId, type DocumentKind, type SignOffStep } from '../sign-off/definitions';
import { signOffWorkflow } from '../sign-off/workflow';
import {
  FAULT_REPAIR_STEPS,
  FOLLOW_UP_ESCALATION_AFTER_MS,
  TARGET_OF_MILESTONE,
  WRITE_UP_ESCALATION_AFTER_MS,
  arriveFaultRepairUpdate,
  bookFaultRepairAppointmentUpdate,
  diagnoseFaultRepairUpdate,
  dispatchFaultRepairUpdate,
  faultRepairStateQuery,
  finishFaultRepairWorkUpdate,
  maintenanceWindowAt,
  minuteOfDayText,
  nextMaintenanceWindowStart,
  recordFaultRepairMilestoneUpdate,
  recordFollowUpCallUpdate,
  reportFaultRepairOverrunImpactUpdate,
  reviseFaultRepairPlanUpdate,
  reviewWriteUpUpdate,
  shanghaiIso,
  startFaultRepairWorkUpdate,
  submitFaultReportUpdate,
  submitWriteUpUpdate,
  type FaultRepairInput,
  type FaultRepairState,
  type FaultRepairStatus,
  type Milestone,
  type SlaTarget,
  windowOrDefault,
} from './definitions';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<FaultRepairStatus, string> = {
  diagnosis: 'waits for the remote diagnosis',
  planning: 'waits for its repair plan to be signed by both sides',
  awaiting_dispatch: 'waits for an engineer to be dispatched',
  dispatched: 'waits for the engineer to arrive on site',
  on_site: 'has the engineer on site, work not started',
  in_progress: 'has work in progress',
  escalated: 'was escalated: the repair did not fix it',
  reporting: 'waits for the service report to be signed',
  follow_up: 'is in follow-up',
  closed: 'is closed',
};

const PLAN_STEPS: SignOffStep[] = ['manager_approval', 'customer_signature'];
const REPORT_STEPS: SignOffStep[] = ['customer_signature'];

/** Minutes early (positive) or late (negative). */
function marginMinutes(dueAt: string, at: string): number {
  return Math.round((Date.parse(dueAt) - Date.parse(at)) / 60_000);
}

/** A refusal (409) of a step that does not fit the case's stage-2 progress. */
function refuse(message: string): never {
  throw ApplicationFailure.create({ type: INVALID_TRANSITION, message });
}

/**
 * Fault repair (P1). Stage 1: registration with SLA clocks that run by themselves -> remote diagnosis
 * -> repair plan signed by both sides (sign-off child) -> dispatch -> arrival -> work (high-risk
 * plans only inside the maintenance window) -> service report signed -> follow_up.
 * Stage 2, from restoration: the fault report due 24 h after it (engineer chased 2 h before, managers
 * told when it passes), the write-up due a week after it (reviewed by the manager, sent back until
 * approved); from the signed service report: the follow-up call due in 2 days (desk chased at the
 * deadline, managers told a day later) and the survey email. All three done -> archived (closed).
 */
export async function faultRepairWorkflow(input: FaultRepairInput): Promise<FaultRepairState> {
  const { caseId, caseNumber } = input;
  const state: FaultRepairState = {
    caseNumber,
    status: 'diagnosis',
    targets: [],
    milestones: {},
    plan: null,
    report: null,
    engineerUserId: null,
    highRiskOperations: [],
    windowEndsAt: null,
    windowOverrunAt: null,
    restoredAt: null,
    faultReport: { dueAt: null, chaseAt: null, chasedAt: null, missedAt: null, submittedAt: null },
    followUp: { dueAt: null, chasedAt: null, escalatedAt: null, calledAt: null, reached: null },
    writeUp: { dueAt: null, state: 'awaiting', version: 0, chasedAt: null, escalatedAt: null },
    appointmentBookings: 0,
    planRevisions: 0,
  };
  const steps = createCaseSteps({ state, subject: `fault repair ${caseNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const stepUpdate = <Arg>(definition: UpdateDefinition<FaultRepairState, [Arg]>, rule: StepRule<FaultRepairStatus>, step: (arg: Arg) => Promise<FaultRepairStatus>, validateInput?: (arg: Arg) => void): void =>
    steps.update(definition, rule, step, () => state, validateInput);
  const now = () => new Date().toISOString();

  /** Marks the milestone's target met or missed with its margin; returns the targets to record. */
  const meet = (milestone: Milestone, at: string): SlaTarget[] => {
    state.milestones[milestone] = at;
    const target = state.targets.find((t) => t.name === TARGET_OF_MILESTONE[milestone]);
    if (target && target.dueAt && target.metAt === null) {
      target.metAt = at;
      target.marginMinutes = marginMinutes(target.dueAt, at);
      target.state = target.marginMinutes >= 0 ? 'met' : 'missed';
    }
    return state.targets;
  };

  /** A new document of the case, and its sign-off as a child workflow that signals every change. */
  const startDocument = async (documentId: string, kind: DocumentKind, signOffSteps: SignOffStep[]): Promise<void> => {
    await startChild(signOffWorkflow, {
      workflowId: signOffWorkflowId(documentId),
      args: [{ documentId, caseId, kind, steps: signOffSteps, parentWorkflowId: workflowInfo().workflowId }],
    });
  };
  /**
   * A signed document reopened: a new run of its sign-off under the same workflow id (the earlier
   * run completed when it was signed), numbering its versions after `lastVersion`.
   */
  const reopenDocument = async (documentId: string, kind: DocumentKind, signOffSteps: SignOffStep[], lastVersion: number): Promise<void> => {
    await startChild(signOffWorkflow, {
      workflowId: signOffWorkflowId(documentId),
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      args: [{ documentId, caseId, kind, steps: signOffSteps, parentWorkflowId: workflowInfo().workflowId, startVersion: lastVersion }],
    });
  };

  /** Restoration recorded: stage 2's deadlines are computed once by an activity and recorded on the case. */
  const recordRestoration = async (restoredAt: string): Promise<void> => {
    const deadlines = await activities.scheduleFaultRepairFollowUp({ caseId, restoredAt, at: now() });
    state.restoredAt = restoredAt;
    state.faultReport.dueAt = deadlines.faultReportDueAt;
    state.faultReport.chaseAt = deadlines.faultReportChaseAt;
    state.writeUp.dueAt = deadlines.writeUpDueAt;
  };

  /** Escalated: its incident took the case over (the SLA clocks stop, the case closes as escalated). */
  const handedOver = () => (state.handedOverTo ?? null) !== null;

  /**
   * An emergency incident from this case: opened by an activity (linked both ways) and started as a
   * case of its own that outlives this one. The worker's start recovery may have started it first.
   */
  const openIncident = async (origin: 'fault_repair_escalation' | 'window_overrun', stamp: { actor: string; role: string; at: string }, startedAt: string | null): Promise<string> => {
    const incident = await activities.openIncidentFromFaultRepair({ caseId, stamp, origin, startedAt });
    try {
      await startChild(incidentWorkflow, { workflowId: incidentWorkflowId(incident.caseNumber), args: [{ caseId: incident.caseId, caseNumber: incident.caseNumber }], parentClosePolicy: ParentClosePolicy.ABANDON });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    state.incidents = [...(state.incidents ?? []), { caseNumber: incident.caseNumber, origin }];
    return incident.caseNumber;
  };

  setHandler(faultRepairStateQuery, () => state);
  setHandler(documentChangedSignal, (change) => {
    const progress = { documentId: change.documentId, status: change.status, version: change.version };
    if (state.plan?.documentId === change.documentId) state.plan = progress;
    if (state.report?.documentId === change.documentId) state.report = progress;
  });

  stepUpdate(
    recordFaultRepairMilestoneUpdate,
    FAULT_REPAIR_STEPS.recordMilestone,
    async (arg) => {
      const at = arg.occurredAt ?? now();
      await activities.recordFaultRepairMilestone({ caseId, stamp: arg, milestone: arg.milestone, occurredAt: at, note: arg.note, targets: meet(arg.milestone, at) });
      return state.status;
    },
    (arg) => {
      if (state.milestones[arg.milestone]) {
        throw ApplicationFailure.create({ type: INVALID_TRANSITION, message: `cannot record ${arg.milestone.replace(/_/g, ' ')}: it was recorded at ${state.milestones[arg.milestone]}` });
      }
    },
  );

  stepUpdate(diagnoseFaultRepairUpdate, FAULT_REPAIR_STEPS.diagnose, async (arg) => {
    const documentId = uuid4();
    const solved = arg.outcome === 'solved_remotely';
    const restoredAt = solved ? (arg.restoredAt ?? now()) : null;
    const kind: DocumentKind = solved ? 'service_report' : 'repair_plan';
    const signOffSteps = solved ? REPORT_STEPS : PLAN_STEPS;
    const targets = restoredAt ? meet('restored', restoredAt) : state.targets;
    const engineerUserId = solved ? (arg.engineerUserId ?? null) : null;
    await activities.recordFaultRepairDiagnosis({ caseId, stamp: arg, outcome: arg.outcome, findings: arg.findings, document: { id: documentId, kind, steps: signOffSteps }, restoredAt, targets, engineerUserId });
    const progress = { documentId, status: 'awaiting_version', version: 0 };
    if (solved) state.report = progress;
    else state.plan = progress;
    if (engineerUserId) state.engineerUserId = engineerUserId;
    await startDocument(documentId, kind, signOffSteps);
    if (restoredAt) await recordRestoration(restoredAt);
    return solved ? 'reporting' : 'planning';
  });

  stepUpdate(dispatchFaultRepairUpdate, FAULT_REPAIR_STEPS.dispatch, async (arg) => {
    await activities.recordFaultRepairDispatch({ caseId, dispatch: arg });
    state.engineerUserId = arg.engineerUserId;
    return 'dispatched';
  });

  // The desk books (or re-books) the visit: the customer's calendar entry is updated.
  stepUpdate(bookFaultRepairAppointmentUpdate, FAULT_REPAIR_STEPS.bookAppointment, async (arg) => {
    const booking = Math.max(state.appointmentBookings ?? 0, 1) + 1; // the dispatch was the first
    await activities.recordFaultRepairAppointment({ caseId, stamp: arg, appointmentAt: arg.appointmentAt, booking });
    state.appointmentBookings = booking;
    return 'dispatched';
  });

  // On site, before work: the engineer reopens the signed plan. A new run of its sign-off numbers the
  // next version after the signed one; the case waits in planning until that is signed by both sides.
  stepUpdate(reviseFaultRepairPlanUpdate, FAULT_REPAIR_STEPS.revisePlan, async (arg) => {
    const plan = state.plan;
    if (!plan || plan.status !== 'signed') refuse('cannot revise the plan: the case has no signed plan');
    const revision = (state.planRevisions ?? 0) + 1;
    await activities.recordFaultRepairPlanReopened({ caseId, stamp: arg, reason: arg.reason, documentId: plan.documentId, signedVersion: plan.version, revision });
    state.planRevisions = revision;
    state.plan = { documentId: plan.documentId, status: 'awaiting_version', version: plan.version };
    await reopenDocument(plan.documentId, 'repair_plan', PLAN_STEPS, plan.version);
    void awaitRevisedPlan(plan.documentId, plan.version, revision);
    return 'planning';
  });

  stepUpdate(arriveFaultRepairUpdate, FAULT_REPAIR_STEPS.arrive, async (arg) => {
    const arrivedAt = arg.arrivedAt ?? now();
    await activities.recordFaultRepairArrival({ caseId, stamp: arg, arrivedAt, targets: meet('arrived_on_site', arrivedAt) });
    return 'on_site';
  });

  // The high-risk gate: a signed plan with high-risk operations lets work start only inside the
  // maintenance window; outside it the validator refuses, naming the next window (nothing in history).
  const checkWindow = (): void => {
    if (state.highRiskOperations.length === 0) return;
    const window = windowOrDefault(state.maintenanceWindow);
    const nowMs = Date.now();
    if (maintenanceWindowAt(nowMs, window)) return;
    const next = shanghaiIso(nextMaintenanceWindowStart(nowMs, window));
    throw ApplicationFailure.create({
      type: INVALID_TRANSITION,
      message: `cannot start work: the signed plan contains high-risk operations (${state.highRiskOperations.join(', ')}), which run only in the maintenance window ${minuteOfDayText(window.startMinute)}-${minuteOfDayText(window.endMinute)} Asia/Shanghai; the next window starts ${next}`,
      details: [{ nextWindowStart: next, highRiskOperations: state.highRiskOperations }],
    });
  };
  stepUpdate(
    startFaultRepairWorkUpdate,
    FAULT_REPAIR_STEPS.startWork,
    async (arg) => {
      checkWindow(); // Its turn may come later than its validation.
      const startedMs = Date.now();
      const window = state.highRiskOperations.length > 0 ? maintenanceWindowAt(startedMs, windowOrDefault(state.maintenanceWindow)) : null;
      const windowEndsAt = window ? new Date(window.end).toISOString() : null;
      await activities.recordFaultRepairWorkStarted({ caseId, stamp: arg, startedAt: new Date(startedMs).toISOString(), windowEndsAt });
      state.windowEndsAt = windowEndsAt;
      return 'in_progress';
    },
    () => checkWindow(),
  );

  stepUpdate(finishFaultRepairWorkUpdate, FAULT_REPAIR_STEPS.finishWork, async (arg) => {
    const finishedAt = now();
    if (!arg.fixed) {
      await activities.recordFaultRepairWorkFinished({ caseId, stamp: arg, fixed: false, result: arg.result, finishedAt, restoredAt: null, report: null, targets: state.targets });
      // Runs that escalated before incidents existed stay escalated, as they were.
      if (patched('fault-repair-escalation-incident')) state.handedOverTo = await openIncident('fault_repair_escalation', { actor: arg.actor, role: arg.role, at: arg.at }, null);
      return 'escalated';
    }
    const restoredAt = arg.restoredAt ?? finishedAt;
    const documentId = uuid4();
    const report = { id: documentId, kind: 'service_report' as const, steps: REPORT_STEPS };
    await activities.recordFaultRepairWorkFinished({ caseId, stamp: arg, fixed: true, result: arg.result, finishedAt, restoredAt, report, targets: meet('restored', restoredAt) });
    state.report = { documentId, status: 'awaiting_version', version: 0 };
    await startDocument(documentId, 'service_report', REPORT_STEPS);
    await recordRestoration(restoredAt);
    return 'reporting';
  });

  // Stage 2's human steps. Each is checked in the validator (409, nothing in history) and again on its turn.
  const faultReportOpen = (): void => {
    if (state.faultReport.submittedAt) refuse(`cannot submit the fault report: it was submitted at ${state.faultReport.submittedAt}`);
  };
  stepUpdate(
    submitFaultReportUpdate,
    FAULT_REPAIR_STEPS.submitFaultReport,
    async (arg) => {
      faultReportOpen();
      const at = now();
      await activities.recordFaultRepairFaultReport({ caseId, stamp: arg, report: arg.report, submittedAt: at, dueAt: state.faultReport.dueAt });
      state.faultReport.submittedAt = at;
      return state.status;
    },
    () => faultReportOpen(),
  );

  const callOpen = (): void => {
    if (state.followUp.calledAt) refuse(`cannot record the follow-up call: it was recorded at ${state.followUp.calledAt}`);
  };
  stepUpdate(
    recordFollowUpCallUpdate,
    FAULT_REPAIR_STEPS.recordFollowUpCall,
    async (arg) => {
      callOpen();
      await activities.recordFaultRepairFollowUpCall({ caseId, stamp: arg, reached: arg.reached, notes: arg.notes, dueAt: state.followUp.dueAt });
      state.followUp.calledAt = arg.at;
      state.followUp.reached = arg.reached;
      return state.status;
    },
    () => callOpen(),
  );

  const writeUpOpen = (): void => {
    const { state: writeUp } = state.writeUp;
    if (writeUp === 'submitted') refuse(`cannot submit the write-up: version ${state.writeUp.version} waits for the manager's review`);
    if (writeUp === 'approved') refuse(`cannot submit the write-up: version ${state.writeUp.version} was approved`);
  };
  stepUpdate(
    submitWriteUpUpdate,
    FAULT_REPAIR_STEPS.submitWriteUp,
    async (arg) => {
      writeUpOpen();
      const version = state.writeUp.version + 1;
      await activities.recordFaultRepairWriteUp({ caseId, stamp: arg, version, summary: arg.summary, lessons: arg.lessons, dueAt: state.writeUp.dueAt });
      state.writeUp.version = version;
      state.writeUp.state = 'submitted';
      return state.status;
    },
    () => writeUpOpen(),
  );

  const reviewOpen = (): void => {
    if (state.writeUp.state !== 'submitted') refuse(`cannot review the write-up: it is ${state.writeUp.state === 'approved' ? 'approved' : 'not submitted'}`);
  };
  stepUpdate(
    reviewWriteUpUpdate,
    FAULT_REPAIR_STEPS.reviewWriteUp,
    async (arg) => {
      reviewOpen();
      await activities.recordFaultRepairWriteUpReview({ caseId, stamp: arg, version: state.writeUp.version, decision: arg.decision, comment: arg.comment });
      state.writeUp.state = arg.decision;
      return state.status;
    },
    () => reviewOpen(),
  );

  // High-risk work overran its window: users affected -> an incident that started at the window's end.
  const overrunImpactOpen = (): void => {
    if (!state.windowOverrunAt) refuse("cannot record the overrun's impact: no maintenance-window overrun is recorded");
    if ((state.overrunUsersAffected ?? null) !== null) refuse(`cannot record the overrun's impact: it was recorded (users affected: ${state.overrunUsersAffected ? 'yes' : 'no'})`);
  };
  stepUpdate(
    reportFaultRepairOverrunImpactUpdate,
    FAULT_REPAIR_STEPS.reportOverrunImpact,
    async (arg) => {
      overrunImpactOpen();
      const stamp = { actor: arg.actor, role: arg.role, at: arg.at };
      await activities.recordFaultRepairOverrunImpact({ caseId, stamp, usersAffected: arg.usersAffected, note: arg.note });
      state.overrunUsersAffected = arg.usersAffected;
      if (arg.usersAffected) await openIncident('window_overrun', stamp, state.windowEndsAt);
      return state.status;
    },
    () => overrunImpactOpen(),
  );

  // The targets are computed once (an activity, recorded in history and on the case); the
  // acknowledgement with them goes to the customer in the same step.
  await steps.run(async () => {
    state.targets = await activities.computeFaultRepairTargets({ caseId, at: now() });
  });
  const clocks = state.targets.filter((t) => t.dueAt && t.warnAt).map((t) => runClock(t));
  const faultReportClock = runFaultReportClock();
  void runWriteUpClock();

  // The plan: signed by both sides -> waiting for dispatch.
  await condition(() => state.plan?.status === 'signed' || state.status === 'reporting');
  if (state.status === 'planning' && state.plan) {
    const plan = state.plan;
    await steps.run(async () => {
      const { highRiskOperations, maintenanceWindow } = await activities.recordFaultRepairPlanSigned({ caseId, documentId: plan.documentId, version: plan.version, at: now() });
      state.highRiskOperations = highRiskOperations;
      // Histories recorded before the customer's window existed have none here: 00:00-05:00.
      state.maintenanceWindow = windowOrDefault(maintenanceWindow);
      state.status = 'awaiting_dispatch';
    });
    void runWindowReminders();
    await condition(() => state.status === 'in_progress');
    if (state.windowEndsAt) {
      const windowEndsAt = state.windowEndsAt;
      if (!(await untilOr(() => state.status !== 'in_progress', windowEndsAt))) {
        await steps.run(async () => {
          if (state.status !== 'in_progress') return;
          const at = now();
          await activities.recordFaultRepairWindowOverrun({ caseId, windowEndsAt, at });
          state.windowOverrunAt = at;
        });
      }
    }
  }

  // The service report: signed by the customer -> follow_up (stage 2 takes over from there); or the
  // repair escalated and its incident took the case over: closed as escalated.
  await condition(() => state.report?.status === 'signed' || handedOver());
  if (handedOver()) {
    await steps.run(async () => {
      await activities.handOverFaultRepair({ caseId, incidentCaseNumber: state.handedOverTo!, at: now() });
    });
    await condition(allHandlersFinished);
    return state;
  }
  const report = state.report!;
  await steps.run(async () => {
    const { followUpDueAt } = await activities.recordFaultRepairReportSigned({ caseId, documentId: report.documentId, version: report.version, at: now() });
    state.followUp.dueAt = followUpDueAt;
    state.status = 'follow_up';
  });
  const followUpClock = runFollowUpClock();

  // The archive: the fault report in, the call recorded and the write-up approved -> closed, the device's history written.
  await condition(() => state.faultReport.submittedAt !== null && state.followUp.calledAt !== null && state.writeUp.state === 'approved');
  await Promise.all([faultReportClock, followUpClock]);
  await steps.run(async () => {
    await activities.archiveFaultRepair({ caseId, at: now() });
    state.status = 'closed';
  });
  // An SLA target never met (e.g. no phone response recorded) still gets its breach notice after the archive.
  await Promise.all(clocks);
  await condition(allHandlersFinished);
  return state;

  /** The fault report's clock, once restoration is recorded: the engineer chased 2 h before, the managers told when it passes. */
  async function runFaultReportClock(): Promise<void> {
    const progress = state.faultReport;
    await condition(() => progress.dueAt !== null);
    const done = () => progress.submittedAt !== null;
    const dueAt = progress.dueAt!;
    if (!(await untilOr(done, progress.chaseAt!))) {
      await steps.run(async () => {
        if (done()) return;
        const at = now();
        await activities.recordFaultRepairFollowUpAlert({ caseId, kind: 'fault_report_chase', dueAt, at });
        progress.chasedAt = at;
      });
    }
    if (await untilOr(done, dueAt)) return;
    await steps.run(async () => {
      if (done()) return;
      const at = now();
      await activities.recordFaultRepairFollowUpAlert({ caseId, kind: 'fault_report_missed', dueAt, at });
      progress.missedAt = at;
    });
  }

  /** The revised plan signed by both sides (a version after `signedVersion`): back on site with its high-risk operations. */
  async function awaitRevisedPlan(documentId: string, signedVersion: number, revision: number): Promise<void> {
    const signed = () => state.plan?.documentId === documentId && state.plan.status === 'signed' && state.plan.version > signedVersion;
    await condition(() => signed() || state.planRevisions !== revision);
    if (!signed() || state.planRevisions !== revision) return;
    const version = state.plan!.version;
    await steps.run(async () => {
      if (state.status !== 'planning') return;
      const { highRiskOperations, maintenanceWindow } = await activities.recordFaultRepairRevisedPlanSigned({ caseId, documentId, version, revision, at: now() });
      state.highRiskOperations = highRiskOperations;
      if (maintenanceWindow) state.maintenanceWindow = windowOrDefault(maintenanceWindow);
      state.status = 'on_site';
    });
  }

  /**
   * The write-up's clock, once restoration is recorded: not in (awaiting or sent back) at its
   * deadline -> the engineer chased; still not in a day later -> the managers told. Runs that
   * restored before this existed have no chase (the patch keeps their histories replaying).
   */
  async function runWriteUpClock(): Promise<void> {
    const progress = state.writeUp;
    await condition(() => progress.dueAt !== null);
    if (!patched('fault-repair-write-up-chase')) return;
    const dueAt = progress.dueAt!;
    const approved = () => progress.state === 'approved';
    const notIn = () => progress.state === 'awaiting' || progress.state === 'returned';
    if (await untilOr(approved, dueAt)) return;
    await steps.run(async () => {
      if (!notIn()) return;
      const at = now();
      await activities.recordFaultRepairFollowUpAlert({ caseId, kind: 'write_up_chase', dueAt, at });
      progress.chasedAt = at;
    });
    if (await untilOr(approved, new Date(Date.parse(dueAt) + WRITE_UP_ESCALATION_AFTER_MS).toISOString())) return;
    await steps.run(async () => {
      if (!notIn()) return;
      const at = now();
      await activities.recordFaultRepairFollowUpAlert({ caseId, kind: 'write_up_overdue', dueAt, at });
      progress.escalatedAt = at;
    });
  }

  /**
   * The engineer reminded when a maintenance window opens: while a signed high-risk plan waits for
   * work (dispatched or on site), at each window's start, until work starts. Runs whose plan was
   * signed before this existed have no reminders (the patch keeps their histories replaying).
   */
  async function runWindowReminders(): Promise<void> {
    const waiting = () => (state.status === 'dispatched' || state.status === 'on_site') && state.highRiskOperations.length > 0;
    const workStarted = () => !['planning', 'awaiting_dispatch', 'dispatched', 'on_site'].includes(state.status);
    let patchChecked = false;
    for (;;) {
      await condition(() => waiting() || workStarted());
      if (workStarted()) return;
      if (!patchChecked) {
        if (!patched('fault-repair-window-reminder')) return;
        patchChecked = true;
      }
      const window = windowOrDefault(state.maintenanceWindow);
      const startMs = nextMaintenanceWindowStart(Date.now(), window);
      if (await untilOr(() => !waiting(), new Date(startMs).toISOString())) continue;
      await steps.run(async () => {
        if (!waiting()) return;
        const at = now();
        const open = maintenanceWindowAt(startMs, window);
        const windowEnd = new Date(open ? open.end : startMs + (window.endMinute - window.startMinute) * 60_000).toISOString();
        await activities.recordFaultRepairWindowReminder({ caseId, windowStart: new Date(startMs).toISOString(), windowEnd, at });
        state.windowRemindedAt = at;
      });
    }
  }

  /** The follow-up call's clock: the desk chased at the deadline, the managers told a day later. */
  async function runFollowUpClock(): Promise<void> {
    const progress = state.followUp;
    const done = () => progress.calledAt !== null;
    const dueAt = progress.dueAt!;
    if (await untilOr(done, dueAt)) return;
    await steps.run(async () => {
      if (done()) return;
      const at = now();
      await activities.recordFaultRepairFollowUpAlert({ caseId, kind: 'follow_up_due', dueAt, at });
      progress.chasedAt = at;
    });
    if (await untilOr(done, new Date(Date.parse(dueAt) + FOLLOW_UP_ESCALATION_AFTER_MS).toISOString())) return;
    await steps.run(async () => {
      if (done()) return;
      const at = now();
      await activities.recordFaultRepairFollowUpAlert({ caseId, kind: 'follow_up_overdue', dueAt, at });
      progress.escalatedAt = at;
    });
  }

  /** One SLA target's clock: warning at 75 %, breach at 100 %, unless its milestone came first. */
  async function runClock(target: SlaTarget): Promise<void> {
    // Handed over to an incident: its ladder races the clock now, not this case.
    const done = () => target.metAt !== null || handedOver();
    if (!(await untilOr(done, target.warnAt!))) {
      await steps.run(async () => {
        if (done()) return;
        const at = now();
        target.warnedAt = at;
        await activities.recordFaultRepairTargetAlert({ caseId, kind: 'warning', target: target.name, dueAt: target.dueAt!, at, targets: state.targets });
      });
    }
    if (await untilOr(done, target.dueAt!)) return;
    await steps.run(async () => {
      if (done()) return;
      const at = now();
      target.breachedAt = at;
      target.state = 'missed';
      await activities.recordFaultRepairTargetAlert({ caseId, kind: 'breach', target: target.name, dueAt: target.dueAt!, at, targets: state.targets });
    });
  }
}
