import { ApplicationFailure, allHandlersFinished, condition, getExternalWorkflowHandle, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { createCaseSteps } from '../shared/case-steps';
import { BUSINESS_RULE_VIOLATION, type ActorStamp } from '../shared/definitions';
import {
  STEP_DECIDERS,
  STEP_DECISIONS,
  VERSION_SUPERSEDED,
  decideDocumentUpdate,
  documentChangedSignal,
  signOffStateQuery,
  submitDocumentVersionUpdate,
  withdrawDocumentSignal,
  type DecisionSubmission,
  type SignOffInput,
  type SignOffState,
  type SignOffStatus,
} from './definitions';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<SignOffStatus, string> = {
  awaiting_version: 'has no version yet',
  in_review: 'is in review',
  returned: 'was sent back to its author for a new version',
  signed: 'is signed by both sides',
  withdrawn: 'was withdrawn',
};

/**
 * One document's sign-off: its author submits a version; the version goes through the steps in order
 * (e.g. manager approval, then customer signature); a rejection or objection sends it back to the
 * author, whose next version starts again from the first step; until every step has let one
 * version through ("until both sides have signed"). Every version and decision is recorded,
 * append-only; the parent process is signalled on every change. Returns the signed state.
 */
export async function signOffWorkflow(input: SignOffInput): Promise<SignOffState> {
  const { documentId, caseId, kind } = input;
  const state: SignOffState = { documentId, status: 'awaiting_version', version: input.startVersion ?? 0, step: null };
  const steps = createCaseSteps({ state, subject: `document ${documentId}`, statusWords: STATUS_WORDS, serialized: true });
  const firstStep = input.steps[0];
  if (!firstStep) throw ApplicationFailure.nonRetryable('a sign-off needs at least one step', BUSINESS_RULE_VIOLATION);

  const tellParent = async (): Promise<void> => {
    if (input.parentWorkflowId) await getExternalWorkflowHandle(input.parentWorkflowId).signal(documentChangedSignal, { ...state, kind });
  };

  /** A decision must name the current version, fit the step it waits for, and come from someone who may decide it. */
  const checkDecision = (decision: DecisionSubmission): void => {
    if (decision.version !== state.version) {
      throw ApplicationFailure.create({
        type: VERSION_SUPERSEDED,
        message: `version ${decision.version} is not the current version of this document: decide version ${state.version}`,
        details: [{ currentVersion: state.version }],
      });
    }
    const step = state.step;
    if (!step) return; // Not in review: the status rule refuses it.
    const allowed: readonly string[] = STEP_DECISIONS[step];
    if (!allowed.includes(decision.decision)) {
      throw ApplicationFailure.create({
        type: BUSINESS_RULE_VIOLATION,
        message: `${step.replace(/_/g, ' ')} is decided with ${allowed.join(' or ')}, not ${decision.decision}`,
        details: [{ field: 'decision' }],
      });
    }
    if (!STEP_DECIDERS[step].includes(decision.role)) {
      throw ApplicationFailure.create({
        type: BUSINESS_RULE_VIOLATION,
        message: `${step.replace(/_/g, ' ')} is decided by ${STEP_DECIDERS[step].join(' or ')}, not by ${decision.role}`,
        details: [{ field: 'role' }],
      });
    }
  };

  setHandler(signOffStateQuery, () => state);

  steps.update(
    submitDocumentVersionUpdate,
    { from: ['awaiting_version', 'returned'], action: 'submit a new version' },
    async (submission) => {
      const version = state.version + 1;
      await activities.recordDocumentVersion({ documentId, caseId, version, submission, firstStep });
      state.version = version;
      state.step = firstStep;
      return 'in_review';
    },
    () => state,
  );

  steps.update(
    decideDocumentUpdate,
    { from: ['in_review'], action: 'decide' },
    async (decision) => {
      // Its turn: another decision may have moved the document on meanwhile.
      checkDecision(decision);
      const step = state.step!;
      const passes = decision.decision === STEP_DECISIONS[step][0];
      const nextStep = passes ? (input.steps[input.steps.indexOf(step) + 1] ?? null) : null;
      const status: SignOffStatus = !passes ? 'returned' : nextStep ? 'in_review' : 'signed';
      await activities.recordDocumentDecision({ documentId, caseId, step, decision, nextStep, status });
      state.step = nextStep;
      return status;
    },
    () => state,
    checkDecision,
  );

  let withdrawal: (ActorStamp & { reason: string }) | undefined;
  setHandler(withdrawDocumentSignal, (stamp) => {
    withdrawal ??= stamp;
  });

  let told = { status: state.status, version: state.version, step: state.step };
  for (;;) {
    await condition(() => withdrawal !== undefined || state.status !== told.status || state.version !== told.version || state.step !== told.step);
    if (withdrawal && state.status !== 'signed') {
      const stamp = withdrawal;
      await steps.run(async () => {
        await activities.recordDocumentWithdrawn({ documentId, caseId, stamp });
        state.status = 'withdrawn';
        state.step = null;
      });
    }
    told = { status: state.status, version: state.version, step: state.step };
    await tellParent();
    if (state.status === 'signed' || state.status === 'withdrawn') break;
  }
  await condition(allHandlersFinished);
  return state;
}
