import { ApplicationFailure, allHandlersFinished, condition, log, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  BUSINESS_RULE_VIOLATION,
  INVALID_TRANSITION,
  SPARE_PART_FINAL_STATUSES,
  approveSparePartUpdate,
  confirmReceiptUpdate,
  recordPaymentUpdate,
  recordReturnUpdate,
  recordShipmentUpdate,
  rejectSparePartUpdate,
  sparePartStateQuery,
  type DecisionInput,
  type PaymentInput,
  type ReceiptInput,
  type RejectionInput,
  type ReturnInput,
  type ShipmentInput,
  type SparePartLoanInput,
  type SparePartLoanState,
  type SparePartStatus,
} from './definitions';

// Each step is one short, idempotent activity (one transaction, then its emails), run as a local
// activity inside the workflow task that asked for it: an Update answers after one round trip to the
// server instead of three, and the history holds one marker per step instead of an activity's three
// events and a second workflow task. Retries past a minute of backoff become durable timers.
const activities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [BUSINESS_RULE_VIOLATION] },
});

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

/** Waits for `done` or until `deadlineIso`; true when `done` came first. A deadline already past waits for nothing. */
async function untilOr(done: () => boolean, deadlineIso: string): Promise<boolean> {
  const remainingMs = Date.parse(deadlineIso) - Date.now();
  if (remainingMs <= 0) return done();
  return condition(done, remainingMs);
}

/**
 * Spare part first (P4): application -> manager's decision -> shipment -> receipt -> 15 working days
 * with reminders -> return, or at the end of the due day an invoice at list price and a downgrade,
 * until a late return or a payment writes the loan off.
 */
export async function sparePartLoanWorkflow(input: SparePartLoanInput): Promise<SparePartLoanState> {
  // Handlers are registered before the first await: an update sent right after the start must find them.
  const { caseId, loanNumber } = input;
  const state: SparePartLoanState = { loanNumber, status: 'pending_approval', deadline: null, remindersSent: [] };
  let changeInProgress = false;
  const isFinal = () => SPARE_PART_FINAL_STATUSES.includes(state.status);

  const allowOnlyWhen = (allowed: readonly SparePartStatus[], action: string): void => {
    if (changeInProgress) {
      throw ApplicationFailure.create({ type: INVALID_TRANSITION, message: `cannot ${action}: another change to loan ${loanNumber} is in progress, try again` });
    }
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({
        type: INVALID_TRANSITION,
        message: `cannot ${action}: loan ${loanNumber} ${STATUS_WORDS[state.status]}`,
        details: [{ status: state.status }],
      });
    }
  };
  // Updates validated above are applied one at a time: the flag is set before the first await.
  // Each step is one activity: it records the change, the audit entry and the step's emails together.
  const change = async (step: () => Promise<SparePartStatus>): Promise<SparePartLoanState> => {
    changeInProgress = true;
    try {
      state.status = await step();
      return state;
    } finally {
      changeInProgress = false;
    }
  };

  setHandler(sparePartStateQuery, () => state);

  setHandler(
    approveSparePartUpdate,
    (decision) =>
      change(async () => {
        await activities.recordSparePartDecision({ caseId, decision: 'approved', stamp: decision });
        return 'approved';
      }),
    { validator: (_: DecisionInput) => allowOnlyWhen(['pending_approval'], 'approve') },
  );

  setHandler(
    rejectSparePartUpdate,
    (rejection) =>
      change(async () => {
        await activities.recordSparePartDecision({ caseId, decision: 'rejected', stamp: rejection });
        return 'rejected';
      }),
    { validator: (_: RejectionInput) => allowOnlyWhen(['pending_approval'], 'reject') },
  );

  setHandler(
    recordShipmentUpdate,
    (shipment) =>
      change(async () => {
        await activities.recordSparePartShipment({ caseId, shipment });
        return 'shipped';
      }),
    { validator: (_: ShipmentInput) => allowOnlyWhen(['approved'], 'record a shipment') },
  );

  setHandler(
    confirmReceiptUpdate,
    (receipt) =>
      change(async () => {
        state.deadline = await activities.recordSparePartReceipt({ caseId, receipt });
        return 'awaiting_return';
      }),
    { validator: (_: ReceiptInput) => allowOnlyWhen(['shipped'], 'confirm receipt') },
  );

  setHandler(
    recordReturnUpdate,
    (receipt) => change(async () => (await activities.recordSparePartReturn({ caseId, receipt })).status),
    {
      validator: (receipt: ReturnInput) => {
        allowOnlyWhen(['awaiting_return', 'overdue'], 'record the return');
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
    },
  );

  setHandler(
    recordPaymentUpdate,
    (payment) =>
      change(async () => {
        await activities.recordSparePartPayment({ caseId, payment });
        return 'written_off';
      }),
    { validator: (_: PaymentInput) => allowOnlyWhen(['overdue'], 'record a payment') },
  );

  await activities.acknowledgeSparePartApplication(caseId);

  // Approval, shipment and receipt are driven by updates; the workflow waits for the return clock to start.
  await condition(() => state.status === 'awaiting_return' || isFinal());

  const deadline = state.deadline;
  if (deadline && state.status === 'awaiting_return') {
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
    await condition(() => !changeInProgress);
    if (!settledInTime && state.status === 'awaiting_return') {
      changeInProgress = true;
      try {
        const overdue = await activities.markSparePartOverdue({ caseId, at: deadline.dueAt });
        state.status = 'overdue';
        log.info('spare-part loan overdue', { loanNumber, ...overdue });
      } finally {
        changeInProgress = false;
      }
    }
  }

  await condition(isFinal);
  await condition(allHandlersFinished);
  return state;
}
