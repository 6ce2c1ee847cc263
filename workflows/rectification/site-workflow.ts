import { ApplicationFailure, allHandlersFinished, condition, getExternalWorkflowHandle, log, proxyLocalActivities, setHandler, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { BUSINESS_RULE_VIOLATION, INVALID_TRANSITION, type ActorStamp } from '../shared/definitions';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import { untilOr } from '../shared/step-queue';
import { documentChangedSignal, signOffWorkflowId, withdrawDocumentSignal, type DocumentKind, type SignOffStep } from '../sign-off/definitions';
import { signOffWorkflow } from '../sign-off/workflow';
import {
  RD_REVIEW_LEAD_MS,
  RECTIFICATION_SITE_STEPS,
  confirmRectificationSlotUpdate,
  declineRectificationSiteUpdate,
  finishRectificationImplementationUpdate,
  pickRectificationMaterialsUpdate,
  proposeRectificationSlotUpdate,
  receiveRectificationPartUpdate,
  rectificationSiteStateQuery,
  siteDeviceOutcomeSignal,
  startRectificationImplementationUpdate,
  type RectificationSiteInput,
  type RectificationSiteResult,
  type RectificationSiteState,
  type RectificationSiteStatus,
  type SiteDeviceOutcome,
} from './site-definitions';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<RectificationSiteStatus, string> = {
  picking: 'waits for its materials to be picked',
  planning: 'waits for its implementation plan to be signed and its slot confirmed',
  scheduled: 'is scheduled and waits for its slot',
  in_progress: 'has the implementation in progress',
  reporting: 'waits for the rectification report to be signed',
  returning_parts: 'waits for the replaced parts to come back',
  archived: 'is archived',
  declined: 'was declined by the customer',
};

/** The technical review by the network maintenance engineer; R&D's review of a high-risk plan; the customer's approval. */
const planSteps = (highRisk: boolean): SignOffStep[] => (highRisk ? ['technical_review', 'rd_review', 'customer_signature'] : ['technical_review', 'customer_signature']);
const REPORT_STEPS: SignOffStep[] = ['customer_signature'];

function refuse(type: string, message: string, details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({ type, message, details: details ? [details] : undefined });
}

/**
 * One site of a rectification campaign (P3 steps 3-6): work order -> materials picked -> the
 * implementation plan through its sign-off (technical review, R&D review when high-risk, the customer's
 * approval) while a slot outside the customer's busy hours and protected periods is proposed and
 * confirmed -> implementation in the slot (a failure is rolled back and rescheduled; the site stays
 * open) -> rectification report signed by the customer -> replaced parts back -> archived. A high-risk
 * plan's R&D review must finish by slot - 3 days (a durable timer): later, the slot moves to the first
 * allowed slot at least 3 days after the review finished, and the customer confirms it again.
 * Every device outcome is signalled to the customer child.
 */
export async function rectificationSiteWorkflow(input: RectificationSiteInput): Promise<RectificationSiteResult> {
  const { campaignCaseId, campaignNumber, siteId } = input;
  const ref = { campaignCaseId, siteId };
  const state: RectificationSiteState = {
    status: 'picking',
    planDocumentId: null,
    planStatus: null,
    reportDocumentId: null,
    reportStatus: null,
    slot: null,
    rdReviewFinishedAt: null,
    rdReviewDueAt: null,
    attempts: 0,
    rectified: [],
    partsOutstanding: [],
  };
  const steps = createCaseSteps({ state, subject: `site ${siteId} of campaign ${campaignNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const stepUpdate = <Arg>(definition: UpdateDefinition<RectificationSiteState, [Arg]>, rule: StepRule<RectificationSiteStatus>, step: (arg: Arg) => Promise<RectificationSiteStatus>, validateInput?: (arg: Arg) => void): void =>
    steps.update(definition, rule, step, () => state, validateInput);
  const now = () => new Date().toISOString();
  let planSignedVersion: number | null = null;
  let planSignedRecorded = false;
  let reportSignedVersion: number | null = null;
  let slotsSet = 0;
  const partClocks: Promise<void>[] = [];

  /** planning until the plan is signed and the current slot confirmed; then scheduled. */
  const readiness = (): RectificationSiteStatus => (planSignedRecorded && state.slot?.confirmedAt ? 'scheduled' : 'planning');

  /** The customer child is told of every device outcome; a missing parent (a site started alone) is logged, not fatal. */
  const tellParent = async (outcome: SiteDeviceOutcome): Promise<void> => {
    try {
      await getExternalWorkflowHandle(input.parentWorkflowId).signal(siteDeviceOutcomeSignal, outcome);
    } catch (error) {
      log.warn('could not tell the customer workflow of a device outcome', { parentWorkflowId: input.parentWorkflowId, outcome: outcome.outcome, error: String(error) });
    }
  };

  const startDocument = async (documentId: string, kind: DocumentKind, signOffSteps: SignOffStep[]): Promise<void> => {
    await startChild(signOffWorkflow, {
      workflowId: signOffWorkflowId(documentId),
      args: [{ documentId, caseId: campaignCaseId, kind, steps: signOffSteps, parentWorkflowId: workflowInfo().workflowId }],
    });
  };

  setHandler(rectificationSiteStateQuery, () => state);
  setHandler(documentChangedSignal, (change) => {
    if (change.documentId === state.planDocumentId) {
      state.planStatus = change.status;
      // R&D's review comes before the customer's approval: a plan past it has been through it.
      if (input.highRisk && state.rdReviewFinishedAt === null && (change.step === 'customer_signature' || change.status === 'signed')) state.rdReviewFinishedAt = now();
      if (change.status === 'signed') planSignedVersion = change.version;
    }
    if (change.documentId === state.reportDocumentId) {
      state.reportStatus = change.status;
      if (change.status === 'signed') reportSignedVersion = change.version;
    }
  });

  stepUpdate(pickRectificationMaterialsUpdate, RECTIFICATION_SITE_STEPS.pickMaterials, async (pick) => {
    const documentId = uuid4();
    const signOffSteps = planSteps(input.highRisk);
    const status = await activities.recordRectificationMaterialsPicked({ ...ref, pick, plan: { documentId, steps: signOffSteps } });
    state.planDocumentId = documentId;
    state.planStatus = 'awaiting_version';
    await startDocument(documentId, 'implementation_plan', signOffSteps);
    return status;
  });

  // A high-risk plan whose R&D review is still open needs its slot at least 3 days away.
  const checkProposal = (proposal: { startsAt: string }): void => {
    const startMs = Date.parse(proposal.startsAt);
    if (startMs <= Date.now()) refuse(BUSINESS_RULE_VIOLATION, `the slot ${proposal.startsAt} has already started`, { field: 'startsAt' });
    if (input.highRisk && state.rdReviewFinishedAt === null && startMs - RD_REVIEW_LEAD_MS < Date.now()) {
      refuse(BUSINESS_RULE_VIOLATION, `the R&D review of this high-risk plan must finish at least 3 days before the slot: propose a slot from ${new Date(Date.now() + RD_REVIEW_LEAD_MS).toISOString()} on`, { field: 'startsAt' });
    }
  };
  stepUpdate(
    proposeRectificationSlotUpdate,
    RECTIFICATION_SITE_STEPS.proposeSlot,
    async (proposal) => {
      checkProposal(proposal);
      const seq = slotsSet + 1;
      const rdReviewDueAt = input.highRisk && state.rdReviewFinishedAt === null ? new Date(Date.parse(proposal.startsAt) - RD_REVIEW_LEAD_MS).toISOString() : null;
      await activities.recordRectificationSlot({ ...ref, proposal, seq, previousStartsAt: state.slot?.startsAt ?? null, rdReviewDueAt, status: 'planning' });
      slotsSet = seq;
      state.slot = { startsAt: new Date(Date.parse(proposal.startsAt)).toISOString(), durationMinutes: proposal.durationMinutes, seq, confirmedAt: null };
      state.rdReviewDueAt = rdReviewDueAt;
      return 'planning';
    },
    checkProposal,
  );

  const checkConfirmation = (confirmation: { seq: number }): void => {
    const slot = state.slot;
    if (!slot) refuse(INVALID_TRANSITION, 'cannot confirm the slot: the site has no slot at the moment; a new one will be proposed');
    if (confirmation.seq !== slot.seq) refuse(INVALID_TRANSITION, `cannot confirm slot ${confirmation.seq}: it was replaced by slot ${slot.seq} (${slot.startsAt}), confirm that one`, { currentSeq: slot.seq, startsAt: slot.startsAt });
    if (slot.confirmedAt) refuse(INVALID_TRANSITION, `cannot confirm the slot: it was confirmed at ${slot.confirmedAt}`);
  };
  stepUpdate(
    confirmRectificationSlotUpdate,
    RECTIFICATION_SITE_STEPS.confirmSlot,
    async (confirmation) => {
      checkConfirmation(confirmation);
      const slot = state.slot!;
      slot.confirmedAt = confirmation.at;
      const status = readiness();
      await activities.recordRectificationSlotConfirmed({ ...ref, stamp: confirmation, seq: confirmation.seq, status });
      return status;
    },
    checkConfirmation,
  );

  // Implementation happens in the slot: not before it starts, not after it ends.
  const checkInSlot = (): void => {
    const slot = state.slot;
    if (!slot) refuse(INVALID_TRANSITION, 'cannot start the implementation: the site has no slot');
    const startMs = Date.parse(slot.startsAt);
    const endMs = startMs + slot.durationMinutes * 60_000;
    const nowMs = Date.now();
    if (nowMs < startMs) refuse(INVALID_TRANSITION, `cannot start the implementation before its slot: the slot starts ${slot.startsAt}`, { slotStartsAt: slot.startsAt });
    if (nowMs >= endMs) refuse(INVALID_TRANSITION, `cannot start the implementation: its slot ended ${new Date(endMs).toISOString()}; propose a new slot`, { slotStartsAt: slot.startsAt });
  };
  stepUpdate(
    startRectificationImplementationUpdate,
    RECTIFICATION_SITE_STEPS.startImplementation,
    async (stamp: ActorStamp) => {
      checkInSlot();
      const attempt = state.attempts + 1;
      await activities.recordRectificationImplementationStarted({ ...ref, stamp, attempt, slotStartsAt: state.slot!.startsAt });
      state.attempts = attempt;
      return 'in_progress';
    },
    () => checkInSlot(),
  );

  const checkFinish = (finish: { succeeded: boolean; rollback: string | null; replacedParts: { deviceId: string; serial: string }[] }): void => {
    if (!finish.succeeded && !finish.rollback) refuse(BUSINESS_RULE_VIOLATION, 'a failed implementation needs the rollback carried out per the plan', { field: 'rollback' });
    if (!finish.succeeded && finish.replacedParts.length > 0) refuse(BUSINESS_RULE_VIOLATION, 'a failed implementation is rolled back: it replaced no parts', { field: 'replacedParts' });
    finish.replacedParts.forEach((part, index) => {
      if (!input.deviceIds.includes(part.deviceId)) refuse(BUSINESS_RULE_VIOLATION, `device ${part.deviceId} is not one of this site's devices`, { field: `replacedParts.${index}.deviceId` });
      if (finish.replacedParts.findIndex((other) => other.serial === part.serial) !== index) refuse(BUSINESS_RULE_VIOLATION, `serial ${part.serial} is given twice`, { field: `replacedParts.${index}.serial` });
    });
  };
  stepUpdate(
    finishRectificationImplementationUpdate,
    RECTIFICATION_SITE_STEPS.finishImplementation,
    async (finish) => {
      checkFinish(finish);
      const report = finish.succeeded ? { documentId: uuid4(), steps: REPORT_STEPS } : null;
      const { status, parts } = await activities.recordRectificationImplementationFinished({ ...ref, finish, attempt: state.attempts, report, finishedAt: now() });
      if (!finish.succeeded) {
        state.slot = null;
        state.rdReviewDueAt = null;
        await tellParentOf('failed');
        return status;
      }
      state.rectified = [...input.deviceIds];
      state.partsOutstanding = parts.map((part) => part.id);
      state.reportDocumentId = report!.documentId;
      state.reportStatus = 'awaiting_version';
      await tellParentOf('rectified');
      await startDocument(report!.documentId, 'rectification_report', REPORT_STEPS);
      for (const part of parts) if (part.kept && part.dueAt) partClocks.push(runPartClock(part.id, part.dueAt, part.reminders));
      return status;
    },
    checkFinish,
  );

  const checkPart = (receipt: { partId: string }): void => {
    if (!state.partsOutstanding.includes(receipt.partId)) refuse(INVALID_TRANSITION, `part ${receipt.partId} is not a replaced part of this site waiting to come back`, { partId: receipt.partId });
  };
  stepUpdate(
    receiveRectificationPartUpdate,
    RECTIFICATION_SITE_STEPS.receivePart,
    async (receipt) => {
      checkPart(receipt);
      await activities.recordRectificationPartReceived({ ...ref, stamp: receipt, partId: receipt.partId, note: receipt.note });
      state.partsOutstanding = state.partsOutstanding.filter((id) => id !== receipt.partId);
      return state.status;
    },
    checkPart,
  );

  // The customer refuses the site work before it starts: the devices declined with the proof, the plan withdrawn.
  stepUpdate(declineRectificationSiteUpdate, RECTIFICATION_SITE_STEPS.decline, async (decline) => {
    await activities.recordRectificationSiteDeclined({ ...ref, decline });
    state.declined = [...input.deviceIds];
    state.slot = null;
    state.rdReviewDueAt = null;
    await tellParent({ siteId, deviceIds: [...input.deviceIds], outcome: 'declined', at: now() });
    if (state.planDocumentId && state.planStatus !== 'signed') {
      try {
        await getExternalWorkflowHandle(signOffWorkflowId(state.planDocumentId)).signal(withdrawDocumentSignal, { actor: decline.actor, role: decline.role, at: decline.at, reason: decline.reason });
      } catch (error) {
        log.warn('could not withdraw the implementation plan', { documentId: state.planDocumentId, error: String(error) });
      }
    }
    return 'declined';
  });
  const declined = () => state.status === 'declined';
  const closeDeclined = async (): Promise<RectificationSiteResult> => {
    // The plan's sign-off tells us it was withdrawn before it ends: it must not find this run closed.
    await condition(() => !state.planDocumentId || state.planStatus === 'signed' || state.planStatus === 'withdrawn');
    await condition(allHandlersFinished);
    return { siteId, rectified: [], declined: state.declined ?? [] };
  };

  await steps.run(async () => {
    await activities.openRectificationSite({ site: input, workflowId: workflowInfo().workflowId, at: now() });
  });
  const rdClock = runRdReviewClock();

  // The plan passed its reviews and the customer approved it.
  await condition(() => planSignedVersion !== null || declined());
  if (declined()) return closeDeclined();
  await steps.run(async () => {
    planSignedRecorded = true;
    const status = state.status === 'planning' ? readiness() : state.status;
    await activities.recordRectificationPlanSigned({ ...ref, version: planSignedVersion!, at: now(), status });
    state.status = status;
  });

  // The work succeeded and the customer signed the report.
  await condition(() => reportSignedVersion !== null || declined());
  if (declined()) return closeDeclined();
  await steps.run(async () => {
    const status: RectificationSiteStatus = state.partsOutstanding.length > 0 ? 'returning_parts' : state.status;
    await activities.recordRectificationReportSigned({ ...ref, version: reportSignedVersion!, at: now(), status });
    state.status = status;
  });

  await condition(() => state.partsOutstanding.length === 0);
  await Promise.all([rdClock, ...partClocks]);
  await steps.run(async () => {
    await activities.archiveRectificationSite({ ...ref, at: now() });
    state.status = 'archived';
  });
  await condition(allHandlersFinished);
  return { siteId, rectified: state.rectified, declined: [] };

  async function tellParentOf(outcome: 'rectified' | 'failed'): Promise<void> {
    await tellParent({ siteId, deviceIds: [...input.deviceIds], outcome, at: now() });
  }

  /**
   * High-risk plans: the R&D review must finish by slot - 3 days (a durable timer, reset when the slot
   * changes). Not finished by then: recorded and told; once it finishes, the slot moves to the first
   * allowed slot at least 3 days later, unless the current slot is already that far away.
   */
  async function runRdReviewClock(): Promise<void> {
    if (!input.highRisk) return;
    const finished = () => state.rdReviewFinishedAt !== null;
    for (;;) {
      await condition(() => finished() || state.rdReviewDueAt !== null);
      if (finished()) break;
      const dueAt = state.rdReviewDueAt!;
      if (await untilOr(() => finished() || state.rdReviewDueAt !== dueAt, dueAt)) continue;
      await steps.run(async () => {
        if (finished() || state.rdReviewDueAt !== dueAt) return;
        await activities.recordRectificationRdReviewOverdue({ ...ref, dueAt, slotStartsAt: state.slot!.startsAt, at: now() });
        state.rdReviewDueAt = null;
      });
      if (state.rdReviewDueAt === null) {
        await condition(finished);
        break;
      }
    }
    await steps.run(async () => {
      const finishedAt = state.rdReviewFinishedAt!;
      const slot = state.slot;
      if (!slot || Date.parse(slot.startsAt) - RD_REVIEW_LEAD_MS >= Date.parse(finishedAt)) {
        await activities.recordRectificationRdReviewFinished({ ...ref, finishedAt });
        state.rdReviewDueAt = null;
        return;
      }
      const seq = slotsSet + 1;
      const moved = await activities.moveRectificationSlotAfterLateReview({ ...ref, finishedAt, previous: slot, seq });
      slotsSet = seq;
      state.slot = { startsAt: moved.startsAt, durationMinutes: moved.durationMinutes, seq, confirmedAt: null };
      state.rdReviewDueAt = null;
      state.status = 'planning';
    });
  }

  /** A replaced part the customer keeps: reminders on the spare-part schedule, then one overdue chase at the deadline. */
  async function runPartClock(partId: string, dueAt: string, reminders: { at: string; workingDaysLeft: number; stillTrueUntil?: string }[]): Promise<void> {
    const received = () => !state.partsOutstanding.includes(partId);
    for (const reminder of reminders) {
      if (await untilOr(received, reminder.at)) return;
      await steps.run(async () => {
        // Late (a worker down for a while): a reminder whose count of days left is no longer true is skipped.
        if (received() || Date.now() >= Date.parse(reminder.stillTrueUntil ?? dueAt)) return;
        await activities.recordRectificationPartChase({ ...ref, partId, kind: 'reminder', workingDaysLeft: reminder.workingDaysLeft, at: now() });
      });
    }
    if (await untilOr(received, dueAt)) return;
    await steps.run(async () => {
      if (received()) return;
      await activities.recordRectificationPartChase({ ...ref, partId, kind: 'overdue', workingDaysLeft: 0, at: now() });
    });
  }
}
