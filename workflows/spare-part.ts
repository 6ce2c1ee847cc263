import { ApplicationFailure, allHandlersFinished, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SparePartLoanSummary } from '../activities/spare-parts';
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

type SendEmailInput = Parameters<Activities['sendEmail']>[0];
/** An email request less its idempotency key, keeping each template paired with its parameters. */
type EmailWithoutKey = SendEmailInput extends infer T ? (T extends unknown ? Omit<T, 'idempotencyKey'> : never) : never;

const activities = proxyActivities<Activities>({
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
  let loan: SparePartLoanSummary | undefined;
  const loaded = async (): Promise<SparePartLoanSummary> => {
    await condition(() => loan !== undefined);
    return loan!;
  };
  const state: SparePartLoanState = { loanNumber: input.loanNumber, status: 'pending_approval', deadline: null, remindersSent: [] };
  let changeInProgress = false;
  const isFinal = () => SPARE_PART_FINAL_STATUSES.includes(state.status);

  const allowOnlyWhen = (allowed: readonly SparePartStatus[], action: string): void => {
    if (changeInProgress) {
      throw ApplicationFailure.create({ type: INVALID_TRANSITION, message: `cannot ${action}: another change to loan ${state.loanNumber} is in progress, try again` });
    }
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({
        type: INVALID_TRANSITION,
        message: `cannot ${action}: loan ${state.loanNumber} ${STATUS_WORDS[state.status]}`,
        details: [{ status: state.status }],
      });
    }
  };
  // Updates validated above are applied one at a time: the flag is set before the first await.
  const change = async (work: () => Promise<void>): Promise<SparePartLoanState> => {
    changeInProgress = true;
    try {
      await work();
      return state;
    } finally {
      changeInProgress = false;
    }
  };
  const email = (key: string, content: EmailWithoutKey) =>
    activities.sendEmail({ ...content, idempotencyKey: `spare-part/${state.loanNumber}/${key}` });
  const toContact = async () => ({ contactId: (await loaded()).contactId });

  setHandler(sparePartStateQuery, () => state);

  setHandler(
    approveSparePartUpdate,
    (decision) =>
      change(async () => {
        await activities.recordSparePartDecision({ caseId: input.caseId, decision: 'approved', stamp: decision });
        state.status = 'approved';
      }),
    { validator: (_: DecisionInput) => allowOnlyWhen(['pending_approval'], 'approve') },
  );

  setHandler(
    rejectSparePartUpdate,
    (rejection) =>
      change(async () => {
        await activities.recordSparePartDecision({ caseId: input.caseId, decision: 'rejected', stamp: rejection });
        state.status = 'rejected';
        await email('rejected', { caseId: input.caseId, to: await toContact(), template: 'spare_part_rejected', params: { loanNumber: state.loanNumber, reason: rejection.reason } });
      }),
    { validator: (_: RejectionInput) => allowOnlyWhen(['pending_approval'], 'reject') },
  );

  setHandler(
    recordShipmentUpdate,
    (shipment) =>
      change(async () => {
        const shipped = await activities.recordSparePartShipment({ caseId: input.caseId, shipment });
        state.status = 'shipped';
        await email('shipped', {
            caseId: input.caseId,
          to: await toContact(),
          template: 'spare_part_shipped',
          params: {
            loanNumber: state.loanNumber,
            replacementSerial: shipment.replacementSerial,
            carrier: shipment.carrier,
            trackingNumber: shipment.trackingNumber,
            confirmReceiptUrl: shipped.confirmReceiptUrl,
            warrantyEnd: shipped.warrantyEnd,
          },
        });
      }),
    { validator: (_: ShipmentInput) => allowOnlyWhen(['approved'], 'record a shipment') },
  );

  setHandler(
    confirmReceiptUpdate,
    (receipt) =>
      change(async () => {
        const deadline = await activities.recordSparePartReceipt({ caseId: input.caseId, receipt });
        state.deadline = deadline;
        state.status = 'awaiting_return';
        await email('return-deadline', {
            caseId: input.caseId,
          to: await toContact(),
          template: 'spare_part_return_deadline',
          params: { loanNumber: state.loanNumber, failedSerial: (await loaded()).failedSerial, dueDate: deadline.dueDate, provisional: deadline.provisional },
        });
      }),
    { validator: (_: ReceiptInput) => allowOnlyWhen(['shipped'], 'confirm receipt') },
  );

  setHandler(
    recordReturnUpdate,
    (receipt) =>
      change(async () => {
        const result = await activities.recordSparePartReturn({ caseId: input.caseId, receipt });
        state.status = result.status;
        await email('closed', {
            caseId: input.caseId,
          to: await toContact(),
          template: 'spare_part_closed',
          params: { loanNumber: state.loanNumber, failedSerial: (await loaded()).failedSerial, writtenOff: result.status === 'written_off' },
        });
      }),
    {
      validator: (receipt: ReturnInput) => {
        allowOnlyWhen(['awaiting_return', 'overdue'], 'record the return');
        // Awaiting return implies the loan was loaded long ago.
        const failedSerial = loan?.failedSerial;
        if (receipt.returnedSerial !== failedSerial) {
          throw ApplicationFailure.create({
            type: BUSINESS_RULE_VIOLATION,
            message: `returned serial ${receipt.returnedSerial} does not match the failed device ${failedSerial}`,
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
        await activities.recordSparePartPayment({ caseId: input.caseId, payment });
        state.status = 'written_off';
        await email('closed', {
            caseId: input.caseId,
          to: await toContact(),
          template: 'spare_part_closed',
          params: { loanNumber: state.loanNumber, failedSerial: (await loaded()).failedSerial, writtenOff: true },
        });
      }),
    { validator: (_: PaymentInput) => allowOnlyWhen(['overdue'], 'record a payment') },
  );

  loan = await activities.loadSparePartLoan(input.caseId);
  await email('application-received', {

    caseId: input.caseId,
    to: await toContact(),
    template: 'spare_part_application_received',
    params: { loanNumber: state.loanNumber, failedSerial: (await loaded()).failedSerial },
  });

  // Approval, shipment and receipt are driven by updates; the workflow waits for the return clock to start.
  await condition(() => state.status === 'awaiting_return' || isFinal());

  const deadline = state.deadline;
  if (deadline && state.status === 'awaiting_return') {
    for (const [index, reminder] of deadline.reminders.entries()) {
      const next = deadline.reminders[index + 1];
      // A reminder whose successor is already due (receipt recorded late) would be stale: skip it.
      if (next && Date.parse(next.at) <= Date.now()) continue;
      if (await untilOr(() => state.status !== 'awaiting_return', reminder.at)) break;
      await email(`reminder/${reminder.date}`, {
        caseId: input.caseId,
        to: await toContact(),
        template: 'spare_part_return_reminder',
        params: { loanNumber: state.loanNumber, failedSerial: (await loaded()).failedSerial, dueDate: deadline.dueDate, workingDaysLeft: reminder.workingDaysLeft },
      });
      await activities.recordSparePartReminder({ caseId: input.caseId, loanNumber: state.loanNumber, date: reminder.date, workingDaysLeft: reminder.workingDaysLeft });
      state.remindersSent.push(reminder.date);
    }

    const settledInTime = await untilOr(() => state.status !== 'awaiting_return', deadline.dueAt);
    // Wait out an update that is being applied right at the deadline, so that it decides first.
    await condition(() => !changeInProgress);
    if (!settledInTime && state.status === 'awaiting_return') {
      changeInProgress = true;
      try {
        const overdue = await activities.markSparePartOverdue({ caseId: input.caseId, at: deadline.dueAt });
        state.status = 'overdue';
        log.info('spare-part loan overdue', { loanNumber: state.loanNumber, ...overdue });
        await email('overdue', {
            caseId: input.caseId,
          to: await toContact(),
          template: 'spare_part_overdue_customer',
          params: { loanNumber: state.loanNumber, failedSerial: (await loaded()).failedSerial, amountCents: overdue.amountCents, billingCycle: overdue.billingCycle },
        });
        await activities.notifyManagersOfOverdue({
          caseId: input.caseId,
          loanNumber: state.loanNumber,
          customerName: (await loaded()).customerName,
          failedSerial: (await loaded()).failedSerial,
          amountCents: overdue.amountCents,
        });
      } finally {
        changeInProgress = false;
      }
    }
  }

  await condition(isFinal);
  await condition(allHandlersFinished);
  return state;
}
