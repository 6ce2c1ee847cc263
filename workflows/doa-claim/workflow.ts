import { ApplicationFailure, ParentClosePolicy, allHandlersFinished, condition, proxyLocalActivities, setHandler, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { BUSINESS_RULE_VIOLATION } from '../shared/definitions';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import { rmaRepairWorkflowId } from '../rma-repair/definitions';
import { rmaRepairWorkflow } from '../rma-repair/workflow';
import {
  CHECKED_CONDITIONS,
  DOA_CLAIM_FINAL_STATUSES,
  DOA_CLAIM_STEPS,
  answerDoaConversionUpdate,
  approveDoaReplacementUpdate,
  checkDoaConditionsUpdate,
  confirmDoaReceiptUpdate,
  decideDoaClaimUpdate,
  doaClaimStateQuery,
  recordDoaUnitReturnUpdate,
  shipDoaReplacementUpdate,
  type DoaClaimInput,
  type DoaClaimState,
  type DoaClaimStatus,
} from './definitions';

const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<DoaClaimStatus, string> = {
  assessment: 'waits for the desk to check the acceptance conditions against the evidence',
  replacement_approval: "was accepted and waits for the manager's approval of a new unit",
  replacement_shipping: 'waits for the new unit to be shipped',
  replacement_delivery: "waits for the customer's confirmation that the new unit arrived",
  unit_return: 'waits for the DOA unit to come back',
  conversion_offered: 'was rejected and waits for the customer to accept or decline an RMA repair',
  converted: 'was converted into an RMA repair',
  closed: 'is closed',
};

/**
 * DOA claim (P5, seed 004 11): registered (by the end user's link page or by the desk for them) ->
 * the desk checks every acceptance condition against the evidence -> decision by the rules (every
 * failed condition listed). Accepted: the manager approves a new unit -> shipped -> the customer
 * confirms receipt (the unit enters the installed base with its warranty) and the DOA unit comes
 * back -> closed. Rejected: the customer is offered an RMA repair for 30 days: accepted -> an RMA
 * repair workflow starts, linked (converted); declined or lapsed -> closed.
 */
export async function doaClaimWorkflow(input: DoaClaimInput): Promise<DoaClaimState> {
  const { caseId, caseNumber } = input;
  const state: DoaClaimState = {
    caseNumber,
    status: 'assessment',
    decision: null,
    uncheckedConditions: [...CHECKED_CONDITIONS],
    replacementSerial: null,
    receiptConfirmedAt: null,
    unitReturnedAt: null,
    conversion: null,
    conversionOfferEndsAt: null,
    rmaCaseNumber: null,
  };
  const steps = createCaseSteps({ state, subject: `DOA claim ${caseNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const stepUpdate = <Arg>(definition: UpdateDefinition<DoaClaimState, [Arg]>, rule: StepRule<DoaClaimStatus>, step: (arg: Arg) => Promise<DoaClaimStatus>, validateInput?: (arg: Arg) => void): void =>
    steps.update(definition, rule, step, () => state, validateInput);
  const isFinal = () => DOA_CLAIM_FINAL_STATUSES.includes(state.status);
  /** After the new unit shipped: closed once it arrived and the DOA unit is back. */
  const afterDelivery = (): DoaClaimStatus => (state.receiptConfirmedAt === null ? 'replacement_delivery' : state.unitReturnedAt === null ? 'unit_return' : 'closed');

  setHandler(doaClaimStateQuery, () => state);

  stepUpdate(checkDoaConditionsUpdate, DOA_CLAIM_STEPS.checkConditions, async (arg) => {
    state.uncheckedConditions = await activities.recordDoaConditionChecks({ caseId, stamp: { actor: arg.actor, role: arg.role, at: arg.at }, findings: arg.findings, note: arg.note ?? null });
    return 'assessment';
  });

  stepUpdate(
    decideDoaClaimUpdate,
    DOA_CLAIM_STEPS.decide,
    async (arg) => {
      const decision = await activities.decideDoaClaim({ caseId, stamp: { actor: arg.actor, role: arg.role, at: arg.at }, comment: arg.comment ?? null });
      state.decision = decision.record;
      if (decision.record.outcome === 'accepted') return 'replacement_approval';
      state.conversionOfferEndsAt = decision.conversionOfferEndsAt;
      return 'conversion_offered';
    },
    () => {
      if (state.uncheckedConditions.length > 0) {
        throw ApplicationFailure.create({
          type: BUSINESS_RULE_VIOLATION,
          message: `cannot decide DOA claim ${caseNumber}: conditions not checked yet: ${state.uncheckedConditions.join(', ')}`,
          details: [{ field: 'conditions', unchecked: state.uncheckedConditions }],
        });
      }
    },
  );

  // Not approved: back to the desk's assessment (the manager's comment says what to look at again).
  stepUpdate(approveDoaReplacementUpdate, DOA_CLAIM_STEPS.approveReplacement, async (arg) => {
    await activities.approveDoaReplacement({ caseId, stamp: { actor: arg.actor, role: arg.role, at: arg.at }, approved: arg.approved, comment: arg.comment ?? null });
    if (arg.approved) return 'replacement_shipping';
    state.decision = null;
    return 'assessment';
  });

  stepUpdate(shipDoaReplacementUpdate, DOA_CLAIM_STEPS.shipReplacement, async (arg) => {
    await activities.shipDoaReplacement({ caseId, stamp: { actor: arg.actor, role: arg.role, at: arg.at }, newSerial: arg.newSerial, carrier: arg.carrier, trackingNumber: arg.trackingNumber });
    state.replacementSerial = arg.newSerial;
    return 'replacement_delivery';
  });

  stepUpdate(confirmDoaReceiptUpdate, DOA_CLAIM_STEPS.confirmReceipt, async (arg) => {
    await activities.confirmDoaReplacementReceipt({ caseId, stamp: { actor: arg.actor, role: arg.role, at: arg.at } });
    state.receiptConfirmedAt = arg.at;
    return afterDelivery();
  });

  stepUpdate(
    recordDoaUnitReturnUpdate,
    DOA_CLAIM_STEPS.recordUnitReturn,
    async (arg) => {
      await activities.recordDoaUnitReturn({ caseId, stamp: { actor: arg.actor, role: arg.role, at: arg.at }, receivedSerial: arg.receivedSerial, note: arg.note ?? null });
      state.unitReturnedAt = arg.at;
      return afterDelivery();
    },
    () => {
      if (state.unitReturnedAt !== null) throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message: `the DOA unit of ${caseNumber} was already recorded as returned at ${state.unitReturnedAt}` });
    },
  );

  stepUpdate(answerDoaConversionUpdate, DOA_CLAIM_STEPS.answerConversion, async (arg) => {
    const stamp = { actor: arg.actor, role: arg.role, at: arg.at };
    if (!arg.accept) {
      await activities.recordDoaConversionAnswer({ caseId, stamp, answer: 'declined' });
      state.conversion = 'declined';
      return 'closed';
    }
    const rma = await activities.convertDoaClaimToRma({ caseId, stamp });
    // The RMA repair is a case of its own: it outlives this claim, which ends here. The worker's
    // recovery of unstarted cases may have started it first: then it runs already, as it should.
    try {
      await startChild(rmaRepairWorkflow, {
        workflowId: rmaRepairWorkflowId(rma.caseNumber),
        args: [{ caseId: rma.caseId, caseNumber: rma.caseNumber }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    state.conversion = 'accepted';
    state.rmaCaseNumber = rma.caseNumber;
    return 'converted';
  });

  await activities.acknowledgeDoaClaim({ caseId });

  // A rejection may be reached more than once (a replacement not approved goes back to assessment).
  while (!isFinal()) {
    await condition(() => state.status === 'conversion_offered' || isFinal());
    if (state.status !== 'conversion_offered' || state.conversionOfferEndsAt === null) continue;
    const answered = await condition(() => state.status !== 'conversion_offered', Math.max(1, Date.parse(state.conversionOfferEndsAt) - Date.now()));
    if (!answered) {
      await steps.run(async () => {
        if (state.status !== 'conversion_offered') return;
        await activities.recordDoaConversionAnswer({ caseId, stamp: { actor: 'system', role: 'system', at: new Date().toISOString() }, answer: 'lapsed' });
        state.conversion = 'lapsed';
        state.status = 'closed';
      });
    }
  }
  await condition(allHandlersFinished);
  return state;
}
