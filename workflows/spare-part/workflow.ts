import { ApplicationFailure, allHandlersFinished, condition, log, patched, proxyLocalActivities, setHandler, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import { BUSINESS_RULE_VIOLATION } from '../shared/definitions';
import {
  SPARE_PART_FINAL_STATUSES,
  SPARE_PART_STEPS,
  approveSparePartUpdate,
  confirmSparePartReceiptUpdate,
  recordSparePartPaymentUpdate,
  recordSparePartReturnUpdate,
  recordSparePartShipmentUpdate,
  rejectSparePartUpdate,
  sparePartStateQuery,
  type DecisionInput,
  type SparePartPaymentInput,
  type SparePartReceiptInput,
  type RejectionInput,
  type ReturnDeadline,
  type SparePartReturnInput,
  type SparePartShipmentInput,
  type SparePartLoanInput,
  type SparePartLoanState,
  type SparePartStatus,
} from './definitions';
import { reminderStillTrue } from '../rules/reminders';
import { rmaRepairWorkflow } from '../rma-repair/workflow';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { untilOr } from '../shared/step-queue';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<SparePartStatus, string> = {
  pending_approval: 'is waiting for approval',
  rejected: 'was rejected',
  approved: 'is already approved',
  shipped: 'has already shipped',
  awaiting_return: 'is waiting for the failed part',
  overdue: 'is overdue',
  returned: 'is closed: the failed part was returned',
  written_off: 'is written off',
};

/**
 * Loans started with this patch apply their steps one at a time in order (`createCaseSteps`) instead
 * of refusing a step while another runs, and check a reminder when it comes due instead of before
 * waiting for it. Loans started earlier keep the old behaviour for their whole run, so they replay.
 */
export const SERIALIZED_STEPS_PATCH = 'spare-part-serialized-steps';

/**
 * Loans that record a return with this patch start the internal RMA the return opened (the failed
 * part, repaired back into stock) as a child workflow that outlives the loan. Returns recorded
 * earlier started nothing, so that their histories replay.
 */
export const INTERNAL_RMA_PATCH = 'spare-part-internal-rma';

/**
 * Spare part first (P4): application -> manager's decision -> shipment -> receipt -> 15 working days
 * with reminders -> return, or at the end of the due day an invoice at list price and a downgrade,
 * until a late return or a payment writes the loan off.
 */
export async function sparePartLoanWorkflow(input: SparePartLoanInput): Promise<SparePartLoanState> {
  // Handlers are registered before the first await: an update sent right after the start must find them.
  const { caseId, loanNumber } = input;
  // Decided once, in the first activation: the marker is in the history of every loan started with the patch.
  const serializedSteps = patched(SERIALIZED_STEPS_PATCH);
  const state: SparePartLoanState = { loanNumber, status: 'pending_approval', deadline: null, remindersSent: [], remindersSkipped: [] };
  const steps = createCaseSteps({ state, subject: `loan ${loanNumber}`, statusWords: STATUS_WORDS, serialized: serializedSteps });
  const isFinal = () => SPARE_PART_FINAL_STATUSES.includes(state.status);
  // Each step is one activity: it records the change, the audit entry and the step's emails together.
  const stepUpdate = <Arg>(
    definition: UpdateDefinition<SparePartLoanState, [Arg]>,
    rule: StepRule<SparePartStatus>,
    step: (arg: Arg) => Promise<SparePartStatus>,
    validateInput?: (arg: Arg) => void,
  ): void => steps.update(definition, rule, step, () => state, validateInput);

  setHandler(sparePartStateQuery, () => state);

  stepUpdate(approveSparePartUpdate, SPARE_PART_STEPS.approve, async (decision: DecisionInput) => {
    await activities.recordSparePartDecision({ caseId, decision: 'approved', stamp: decision });
    return 'approved';
  });

  stepUpdate(rejectSparePartUpdate, SPARE_PART_STEPS.reject, async (rejection: RejectionInput) => {
    await activities.recordSparePartDecision({ caseId, decision: 'rejected', stamp: rejection });
    return 'rejected';
  });

  stepUpdate(recordSparePartShipmentUpdate, SPARE_PART_STEPS.ship, async (shipment: SparePartShipmentInput) => {
    await activities.recordSparePartShipment({ caseId, shipment });
    return 'shipped';
  });

  stepUpdate(confirmSparePartReceiptUpdate, SPARE_PART_STEPS.confirmReceipt, async (receipt: SparePartReceiptInput) => {
    state.deadline = await activities.recordSparePartReceipt({ caseId, receipt });
    return 'awaiting_return';
  });

  stepUpdate(
    recordSparePartReturnUpdate,
    SPARE_PART_STEPS.recordReturn,
    async (receipt: SparePartReturnInput) => {
      const returned = await activities.recordSparePartReturn({ caseId, receipt });
      if (patched(INTERNAL_RMA_PATCH)) await startInternalRma(returned);
      return returned.status;
    },
    (receipt: SparePartReturnInput) => {
      if (receipt.returnedSerial !== input.failedSerial) {
        throw ApplicationFailure.create({
          type: BUSINESS_RULE_VIOLATION,
          message: `returned serial ${receipt.returnedSerial} does not match the failed device ${input.failedSerial}`,
          details: [{ field: 'returnedSerial' }],
        });
      }
      if (!receipt.faultTagPresent && !receipt.discrepancy) {
        throw ApplicationFailure.create({
          type: BUSINESS_RULE_VIOLATION,
          message: 'a part returned without its fault tag needs the discrepancy noted',
          details: [{ field: 'discrepancy' }],
        });
      }
    },
  );

  stepUpdate(recordSparePartPaymentUpdate, SPARE_PART_STEPS.recordPayment, async (payment: SparePartPaymentInput) => {
    await activities.recordSparePartPayment({ caseId, payment });
    return 'written_off';
  });

  await activities.acknowledgeSparePartApplication(caseId);

  /** The internal RMA of the returned part, started once; the worker's recovery may have started it first. */
  async function startInternalRma(returned: { rmaCaseId: string; rmaCaseNumber: string; rmaWorkflowId: string }): Promise<void> {
    try {
      await startChild(rmaRepairWorkflow, {
        workflowId: returned.rmaWorkflowId,
        args: [{ caseId: returned.rmaCaseId, caseNumber: returned.rmaCaseNumber }],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  // Approval, shipment and receipt are driven by updates; the workflow waits for the return clock to start.
  await condition(() => state.status === 'awaiting_return' || isFinal());

  const deadline = state.deadline;
  if (deadline && state.status === 'awaiting_return') {
    if (serializedSteps) await chaseReturn(deadline);
    else await chaseReturnBeforeSerializedSteps(deadline);
  }

  await condition(isFinal);
  await condition(allHandlersFinished);
  return state;

  /**
   * Reminders, then the deadline, each a step in the queue. A reminder is checked when it comes due
   * (after the wait, and after the steps queued before it): one that is no longer true (the worker
   * was away past its day, the receipt was recorded late) is recorded as skipped, not sent.
   */
  async function chaseReturn(deadline: ReturnDeadline): Promise<void> {
    for (const reminder of deadline.reminders) {
      if (await untilOr(() => state.status !== 'awaiting_return', reminder.at)) return;
      await steps.run(async () => {
        if (state.status !== 'awaiting_return') return;
        const at = new Date().toISOString();
        if (reminderStillTrue(reminder, deadline.dueAt, Date.now())) {
          await activities.sendSparePartReminder({ caseId, date: reminder.date, dueDate: deadline.dueDate, workingDaysLeft: reminder.workingDaysLeft, at });
          state.remindersSent.push(reminder.date);
        } else {
          const stillTrueUntil = reminder.stillTrueUntil ?? deadline.dueAt;
          await activities.recordSkippedSparePartReminder({ caseId, date: reminder.date, workingDaysLeft: reminder.workingDaysLeft, stillTrueUntil, at });
          state.remindersSkipped.push(reminder.date);
        }
      });
    }
    if (await untilOr(() => state.status !== 'awaiting_return', deadline.dueAt)) return;
    // A step queued before the deadline step (a return recorded right at the deadline) decides first.
    await steps.run(async () => {
      if (state.status !== 'awaiting_return') return;
      const overdue = await activities.markSparePartOverdue({ caseId, at: deadline.dueAt });
      state.status = 'overdue';
      log.info('spare-part loan overdue', { loanNumber, ...overdue });
    });
  }

  /** Loans started before SERIALIZED_STEPS_PATCH, unchanged so that their histories replay. */
  async function chaseReturnBeforeSerializedSteps(deadline: ReturnDeadline): Promise<void> {
    for (const [index, reminder] of deadline.reminders.entries()) {
      const next = deadline.reminders[index + 1];
      // A reminder whose successor is already due (receipt recorded late) would be stale: skip it.
      if (next && Date.parse(next.at) <= Date.now()) continue;
      if (await untilOr(() => state.status !== 'awaiting_return', reminder.at)) break;
      await activities.sendSparePartReminder({ caseId, date: reminder.date, dueDate: deadline.dueDate, workingDaysLeft: reminder.workingDaysLeft });
      state.remindersSent.push(reminder.date);
    }

    const settledInTime = await untilOr(() => state.status !== 'awaiting_return', deadline.dueAt);
    // Wait out an update that is being applied right at the deadline, so that it decides first.
    await condition(() => steps.idle);
    if (!settledInTime && state.status === 'awaiting_return') {
      await steps.runUnserialized(async () => {
        const overdue = await activities.markSparePartOverdue({ caseId, at: deadline.dueAt });
        state.status = 'overdue';
        log.info('spare-part loan overdue', { loanNumber, ...overdue });
      });
    }
  }
}
