import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import type { IncidentCloseOutInput, IncidentCloseOutResult } from '../incident-close-out/definitions';
import { incidentCloseOutWorkflowId } from '../incident-close-out/definitions';
import type { LadderLevel } from '../rules/grading';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { INVALID_TRANSITION } from '../shared/definitions';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import { untilOr } from '../shared/step-queue';
import { documentChangedSignal, signOffWorkflowId, type SignOffStep } from '../sign-off/definitions';
import { signOffWorkflow } from '../sign-off/workflow';
import {
  INCIDENT_STEPS,
  RECOVERY_PLAN_STEPS,
  RECOVERY_PLAN_STEPS_WITH_TEST,
  RECURRENCE_WATCH_MS,
  arriveIncidentUpdate,
  declareNotAnIncidentUpdate,
  gradeIncidentUpdate,
  incidentRecurredSignal,
  incidentStateQuery,
  incidentWorkflowId,
  lendIncidentStandbyUnitUpdate,
  recordIncidentImplementationUpdate,
  restoreIncidentUpdate,
  setIncidentExpertGroupUpdate,
  startIncidentRecoveryPlanUpdate,
  switchBackIncidentStandbyUnitUpdate,
  type ExpertGroupInput,
  type IncidentInput,
  type IncidentState,
  type IncidentStatus,
  type RecurrenceNotice,
} from './definitions';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<IncidentStatus, string> = {
  registered: "waits for the manager's grading",
  in_recovery: 'is being recovered',
  restored: 'is restored',
  closed: 'is closed',
  not_an_incident: 'was decided not to be an incident',
  continued: 'was recorded on the incident it continues',
};

function refuse(message: string): never {
  throw ApplicationFailure.create({ type: INVALID_TRANSITION, message });
}

function checkExpertGroup(input: ExpertGroupInput): void {
  const coordinators = input.members.filter((member) => member.coordinator).length;
  if (input.members.length === 0) refuse('cannot form the expert group: it needs members');
  if (coordinators !== 1) refuse(`cannot form the expert group: it needs exactly one coordinator who faces the customer, not ${coordinators}`);
  if (new Set(input.members.map((member) => member.userId)).size !== input.members.length) refuse('cannot form the expert group: a member is listed twice');
}

/**
 * Emergency incident (P2) up to restoration. The notice (a continuation of an incident recovered
 * within 24 h is handed to that incident, which reopens) -> the manager's grading (never lowered) ->
 * recovery: expert group, recovery plans through the sign-off (manager approval, the test when
 * required, the customer's confirmation), implementation (a failed one reopens the plan) -> restoration,
 * which starts the close-out as a child and keeps a 24-hour watch for the same symptom; the archive
 * closes it. The escalation ladder climbs by itself meanwhile (2 h -> on site + 4 h -> 1 working day),
 * each instant computed by an activity from the calendar and recorded; a standby unit lent at level 4
 * is chased each working morning after restoration until it is switched back.
 */
export async function incidentWorkflow(input: IncidentInput): Promise<IncidentState> {
  const { caseId, caseNumber } = input;
  const state: IncidentState = {
    caseNumber,
    status: 'registered',
    level: null,
    ladder: { level: 1, enteredAt: '', escalateAt: null, arrivedOnSiteAt: null },
    plans: [],
    standbyUnit: null,
    restoredAt: null,
    closeOutRound: 0,
    reopenedAt: [],
    continuedBy: [],
  };
  const steps = createCaseSteps({ state, subject: `incident ${caseNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const stepUpdate = <Arg>(definition: UpdateDefinition<IncidentState, [Arg]>, rule: StepRule<IncidentStatus>, step: (arg: Arg) => Promise<IncidentStatus>, validateInput?: (arg: Arg) => void): void =>
    steps.update(definition, rule, step, () => state, validateInput);
  const now = () => new Date().toISOString();
  /** Bumped whenever the ladder's clock must be computed again (arrival, a step up, a reopening). */
  let ladderEpoch = 0;
  let interruptedAt: string | null = null;
  let closeOutScope: CancellationScope | null = null;
  const recurrences: RecurrenceNotice[] = [];

  const tellContinuedIncident = async (continuesCaseNumber: string, occurredAt: string): Promise<void> => {
    await getExternalWorkflowHandle(incidentWorkflowId(continuesCaseNumber)).signal(incidentRecurredSignal, { caseId, caseNumber, occurredAt });
  };
  const startSignOff = async (documentId: string, signOffSteps: SignOffStep[], startVersion?: number): Promise<void> => {
    await startChild(signOffWorkflow, {
      workflowId: signOffWorkflowId(documentId),
      ...(startVersion !== undefined ? { workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const } : {}),
      args: [{ documentId, caseId, kind: 'recovery_plan', steps: signOffSteps, parentWorkflowId: workflowInfo().workflowId, ...(startVersion !== undefined ? { startVersion } : {}) }],
    });
  };
  /** The status now (a read the compiler does not narrow across awaits). */
  const status = (): IncidentStatus => state.status;
  const standbyDone = () => state.standbyUnit === null || state.standbyUnit.switchedBackAt !== null;

  setHandler(incidentStateQuery, () => state);
  setHandler(documentChangedSignal, (change) => {
    const plan = state.plans.find((candidate) => candidate.documentId === change.documentId);
    if (plan) Object.assign(plan, { status: change.status, version: change.version });
  });
  setHandler(incidentRecurredSignal, (notice) => {
    recurrences.push(notice);
  });

  let occurredAt = '';
  stepUpdate(gradeIncidentUpdate, INCIDENT_STEPS.grade, async (arg) => {
    const outcome = await activities.gradeIncidentCase({ caseId, stamp: arg, impact: arg.impact, customerStatedCause: arg.customerStatedCause });
    if (outcome.continuesCaseNumber) {
      await tellContinuedIncident(outcome.continuesCaseNumber, occurredAt);
      return 'continued';
    }
    state.level = outcome.level;
    return state.status === 'registered' ? 'in_recovery' : state.status;
  });

  stepUpdate(declareNotAnIncidentUpdate, INCIDENT_STEPS.declareNotAnIncident, async (arg) => {
    await activities.declareNotAnIncident({ caseId, stamp: arg, reason: arg.reason, faultRepairCaseId: arg.faultRepairCaseId, faultRepairCaseNumber: arg.faultRepairCaseNumber });
    return 'not_an_incident';
  });

  stepUpdate(
    setIncidentExpertGroupUpdate,
    INCIDENT_STEPS.setExpertGroup,
    async (arg) => {
      await activities.setIncidentExpertGroup({ caseId, stamp: arg, members: arg.members });
      return state.status;
    },
    checkExpertGroup,
  );

  const noPlanInSignOff = (): void => {
    const open = state.plans.find((plan) => plan.status !== 'signed' && plan.status !== 'withdrawn');
    if (open) refuse(`cannot start a recovery plan: plan ${open.documentId} is still in its sign-off (${open.status.replace(/_/g, ' ')})`);
  };
  stepUpdate(
    startIncidentRecoveryPlanUpdate,
    INCIDENT_STEPS.startRecoveryPlan,
    async (arg) => {
      noPlanInSignOff();
      const documentId = uuid4();
      const signOffSteps: SignOffStep[] = arg.testRequired ? [...RECOVERY_PLAN_STEPS_WITH_TEST] : [...RECOVERY_PLAN_STEPS];
      await activities.startIncidentRecoveryPlan({ caseId, stamp: arg, documentId, title: arg.title, testRequired: arg.testRequired, steps: signOffSteps });
      state.plans.push({ documentId, status: 'awaiting_version', version: 0, testRequired: arg.testRequired });
      await startSignOff(documentId, signOffSteps);
      return state.status;
    },
    () => noPlanInSignOff(),
  );

  const signedPlan = (documentId: string) => {
    const plan = state.plans.find((candidate) => candidate.documentId === documentId);
    if (!plan) refuse(`cannot record the implementation: ${documentId} is not a recovery plan of incident ${caseNumber}`);
    if (plan.status !== 'signed') refuse(`cannot record the implementation: recovery plan ${documentId} is not signed by both sides (${plan.status.replace(/_/g, ' ')})`);
    return plan;
  };
  stepUpdate(
    recordIncidentImplementationUpdate,
    INCIDENT_STEPS.recordImplementation,
    async (arg) => {
      const plan = signedPlan(arg.documentId);
      const version = plan.version;
      await activities.recordIncidentImplementation({ caseId, stamp: arg, documentId: plan.documentId, version, implementedBy: arg.implementedBy, implementedAt: arg.implementedAt, restored: arg.restored, note: arg.note });
      if (!arg.restored) {
        // Not restored: the plan needs a new version, through the whole sign-off again.
        plan.status = 'awaiting_version';
        await startSignOff(plan.documentId, plan.testRequired ? [...RECOVERY_PLAN_STEPS_WITH_TEST] : [...RECOVERY_PLAN_STEPS], version);
      }
      return state.status;
    },
    (arg) => void signedPlan(arg.documentId),
  );

  const arrivalFits = (): void => {
    if (state.ladder.level > 2) refuse(`cannot record the arrival on site: incident ${caseNumber} is at ladder level ${state.ladder.level}, past the on-site level`);
    if (state.ladder.arrivedOnSiteAt) refuse(`cannot record the arrival on site: it was recorded at ${state.ladder.arrivedOnSiteAt}`);
  };
  stepUpdate(
    arriveIncidentUpdate,
    INCIDENT_STEPS.arrive,
    async (arg) => {
      arrivalFits();
      await activities.recordIncidentArrival({ caseId, stamp: arg, arrivedAt: arg.arrivedAt });
      state.ladder.arrivedOnSiteAt = arg.arrivedAt;
      ladderEpoch++;
      return state.status;
    },
    () => arrivalFits(),
  );

  const noStandbyYet = (): void => {
    if (state.standbyUnit) refuse(`cannot record a standby unit: ${state.standbyUnit.serial} was installed at ${state.standbyUnit.installedAt}`);
  };
  stepUpdate(
    lendIncidentStandbyUnitUpdate,
    INCIDENT_STEPS.lendStandbyUnit,
    async (arg) => {
      noStandbyYet();
      await activities.recordIncidentStandbyUnit({ caseId, stamp: arg, serial: arg.serial, installedAt: arg.installedAt, note: arg.note });
      state.standbyUnit = { serial: arg.serial, installedAt: arg.installedAt, switchedBackAt: null, chasedAt: [] };
      return state.status;
    },
    () => noStandbyYet(),
  );

  const gradedBeforeRestoration = (): void => {
    if (state.level === null) refuse(`cannot record the restoration: incident ${caseNumber} is not graded`);
  };
  stepUpdate(
    restoreIncidentUpdate,
    INCIDENT_STEPS.restore,
    async (arg) => {
      gradedBeforeRestoration();
      const round = state.closeOutRound + 1;
      await activities.recordIncidentRestoration({ caseId, stamp: arg, interruptedAt: arg.interruptedAt, restoredAt: arg.restoredAt, round });
      state.restoredAt = arg.restoredAt;
      state.closeOutRound = round;
      state.ladder.escalateAt = null;
      interruptedAt = arg.interruptedAt;
      return 'restored';
    },
    () => gradedBeforeRestoration(),
  );

  const switchBackFits = (): void => {
    if (!state.standbyUnit) refuse(`cannot record the switch-back: incident ${caseNumber} has no standby unit`);
    if (state.standbyUnit.switchedBackAt) refuse(`cannot record the switch-back: it was recorded at ${state.standbyUnit.switchedBackAt}`);
  };
  stepUpdate(
    switchBackIncidentStandbyUnitUpdate,
    INCIDENT_STEPS.switchBackStandbyUnit,
    async (arg) => {
      switchBackFits();
      await activities.recordIncidentStandbySwitchBack({ caseId, stamp: arg, switchedBackAt: arg.switchedBackAt, note: arg.note });
      state.standbyUnit!.switchedBackAt = arg.switchedBackAt;
      return state.status;
    },
    () => switchBackFits(),
  );

  const opening = await steps.run(() => activities.openIncident({ caseId, at: now() }));
  occurredAt = opening.occurredAt;
  if (opening.status === 'continued' && opening.continuesCaseNumber) {
    await steps.run(async () => {
      await tellContinuedIncident(opening.continuesCaseNumber!, occurredAt);
      state.status = 'continued';
    });
    await condition(allHandlersFinished);
    return state;
  }
  state.ladder.enteredAt = opening.ladderEnteredAt;
  void runLadder();
  void runRecurrences();
  void runStandbyChase();

  // One close-out round per restoration, one at a time: a round cancelled by a reopening has finished
  // (the close-out recorded it superseded) before the next restoration's round starts.
  let lastRound = 0;
  const newRound = () => state.status === 'restored' && state.closeOutRound > lastRound;
  for (;;) {
    await condition(() => newRound() || state.status === 'not_an_incident' || state.status === 'continued');
    if (!newRound()) break;
    const round = state.closeOutRound;
    lastRound = round;
    const closeOutInput: IncidentCloseOutInput = { caseId, caseNumber, restoredAt: state.restoredAt!, interruptedAt: interruptedAt!, round };
    const watchEndsAt = new Date(Date.parse(closeOutInput.restoredAt) + RECURRENCE_WATCH_MS).toISOString();
    const scope = new CancellationScope();
    closeOutScope = scope;
    // A continuation within the watch cancels the round (the close-out records it superseded).
    const result = await scope
      .run(() =>
        executeChild<(input: IncidentCloseOutInput) => Promise<IncidentCloseOutResult>>('incidentCloseOutWorkflow', {
          workflowId: incidentCloseOutWorkflowId(caseNumber),
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          args: [closeOutInput],
        }),
      )
      .catch((error: unknown) => {
        if (isCancellation(error)) return { archivedAt: null };
        throw error;
      });
    closeOutScope = null;
    if (result.archivedAt && status() === 'restored' && state.closeOutRound === round) {
      const archivedAt = result.archivedAt;
      await steps.run(async () => {
        if (status() !== 'restored') return;
        await activities.archiveIncident({ caseId, archivedAt, round });
        state.status = 'closed';
      });
    }
    if (status() === 'closed') {
      // The watch outlives an early archive: the same symptom within 24 h still reopens it.
      if (await untilOr(() => status() !== 'closed', watchEndsAt)) continue;
      await condition(() => standbyDone() || status() !== 'closed');
      if (status() !== 'closed') continue;
      break;
    }
  }
  await condition(allHandlersFinished);
  return state;

  /** The escalation ladder: each level's instant from nextEscalation (an activity, recorded), then up one level unless restored first. */
  async function runLadder(): Promise<void> {
    const climbing = () => state.status === 'registered' || state.status === 'in_recovery';
    for (;;) {
      await condition(climbing);
      const epoch = ladderEpoch;
      const { level, enteredAt, arrivedOnSiteAt } = state.ladder;
      const schedule = await steps.run(() => activities.scheduleIncidentEscalation({ caseId, ladderLevel: level, enteredAt, arrivedOnSiteAt }));
      const changed = () => !climbing() || ladderEpoch !== epoch;
      if (changed()) continue;
      state.ladder.escalateAt = schedule.escalateAt;
      if (schedule.escalateAt === null) {
        await condition(changed);
        continue;
      }
      if (await untilOr(changed, schedule.escalateAt)) continue;
      await steps.run(async () => {
        if (changed()) return;
        const to = (level + 1) as LadderLevel;
        const at = now();
        await activities.escalateIncident({ caseId, to, at, reason: schedule.reason });
        state.ladder = { level: to, enteredAt: at, escalateAt: null, arrivedOnSiteAt: state.ladder.arrivedOnSiteAt };
        ladderEpoch++;
      });
    }
  }

  /** Later notices that continue this incident: recorded; a restored incident reopens (its close-out round is cancelled) and the ladder goes on. */
  async function runRecurrences(): Promise<void> {
    for (;;) {
      await condition(() => recurrences.length > 0);
      const notice = recurrences.shift()!;
      await steps.run(async () => {
        const reopen = state.status === 'restored' || state.status === 'closed';
        const at = now();
        await activities.recordIncidentRecurrence({ caseId, notice, reopen, at });
        state.continuedBy.push(notice.caseNumber);
        if (!reopen) return;
        state.status = 'in_recovery';
        state.restoredAt = null;
        state.reopenedAt.push(at);
        state.ladder = { level: state.ladder.level, enteredAt: at, escalateAt: null, arrivedOnSiteAt: null };
        ladderEpoch++;
        closeOutScope?.cancel();
      });
    }
  }

  /** A standby unit still in after restoration: chased each working morning until it is switched back. */
  async function runStandbyChase(): Promise<void> {
    const restored = () => state.status === 'restored' || state.status === 'closed';
    let after: string | null = null;
    for (;;) {
      await condition(() => state.standbyUnit !== null && (state.standbyUnit.switchedBackAt !== null || restored()));
      if (standbyDone()) return;
      const from: string = after ?? state.restoredAt!;
      const { chaseAt } = await steps.run(() => activities.scheduleIncidentStandbyChase({ after: from }));
      const stop = () => standbyDone() || !restored();
      if (await untilOr(stop, chaseAt)) {
        after = null;
        continue;
      }
      await steps.run(async () => {
        if (stop()) return;
        const chase = state.standbyUnit!.chasedAt.length + 1;
        const at = now();
        await activities.chaseIncidentStandbySwitchBack({ caseId, chase, at });
        state.standbyUnit!.chasedAt.push(at);
      });
      after = chaseAt;
    }
  }
}
