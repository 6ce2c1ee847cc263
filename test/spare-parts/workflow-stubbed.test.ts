import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_TRANSITION } from '../../workflows/shared/definitions';
import {
  approveSparePartUpdate,
  confirmSparePartReceiptUpdate,
  recordSparePartReturnUpdate,
  recordSparePartShipmentUpdate,
  sparePartStateQuery,
  type ReturnDeadline,
} from '../../workflows/spare-part/definitions';
import { sparePartLoanWorkflow } from '../../workflows/spare-part/workflow';
import { eventually, sleepUntil } from '../support/probes';
import { NOT_STUBBED, startWorkflowHarness, type ActivityStubs, type StubbedWorker, type WorkflowHarness } from '../support/workflow-harness';

// sparePartLoanWorkflow alone: its activities are stubs, time is the test server's virtual clock.
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const LOAN = { caseId: 'case-1', loanNumber: 'SP-2026-000001', failedSerial: 'SN-1' };
const stamp = (role: string) => ({ actor: `${role} user`, role, at: '2026-09-24T02:00:00.000Z' });

const approval = { ...stamp('manager'), comment: 'ok' };
const shipment = { ...stamp('service_desk'), replacementSerial: 'R-SN-1', carrier: 'SF Express', trackingNumber: 'SF1', shippedAt: '2026-09-24T02:00:00.000Z' };
const receipt = { ...stamp('service_desk'), receivedAt: '2026-09-24T02:00:00.000Z', discrepancy: null };

/** A return deadline a week from `nowMs`: reminders 2, 6 and 7 days on (an hour in), each true until 22 h into its day; due 14 h into day 7. */
function deadlineFrom(nowMs: number): ReturnDeadline {
  const dueAt = nowMs + 7 * DAY + 14 * HOUR;
  const reminder = (days: number, workingDaysLeft: number, stillTrueUntil: number) => ({
    date: iso(nowMs + days * DAY).slice(0, 10),
    at: iso(nowMs + days * DAY + HOUR),
    workingDaysLeft,
    stillTrueUntil: iso(stillTrueUntil),
  });
  return {
    dueDate: iso(nowMs + 7 * DAY).slice(0, 10),
    dueAt: iso(dueAt),
    provisional: false,
    missingYears: [],
    reminders: [reminder(2, 5, nowMs + 2 * DAY + 22 * HOUR), reminder(6, 1, nowMs + 6 * DAY + 22 * HOUR), reminder(7, 0, dueAt)],
  };
}

/** Stubs for the steps of a loan that goes well; a test adds or replaces what it looks at. */
function loanStubs(deadline: ReturnDeadline, more: ActivityStubs = {}): ActivityStubs {
  return {
    acknowledgeSparePartApplication: async (caseId) => ({ caseId, loanNumber: LOAN.loanNumber, customerId: 'customer-1', customerName: 'Shanghai Mobile', contactId: 'contact-1', failedDeviceId: 'device-1', failedSerial: LOAN.failedSerial }),
    recordSparePartDecision: async () => undefined,
    recordSparePartShipment: async () => ({ warrantyEnd: '2027-03-31' }),
    recordSparePartReceipt: async () => deadline,
    sendSparePartReminder: async () => undefined,
    recordSkippedSparePartReminder: async () => undefined,
    markSparePartOverdue: async () => ({ amountCents: 1_250_000, billingCycle: '2026-11', managersNotified: 1 }),
    ...more,
  };
}

/** An error and its causes, outermost first. */
const causesOf = (error: unknown): Error[] => (error instanceof Error ? [error, ...causesOf(error.cause)] : []);

const startLoan = (worker: StubbedWorker) => worker.start(sparePartLoanWorkflow, [LOAN]);

/** Approves, ships and confirms receipt; returns the state the receipt update answered. */
async function loanAwaitingReturn(handle: Awaited<ReturnType<typeof startLoan>>) {
  await handle.executeUpdate(approveSparePartUpdate, { args: [approval] });
  await handle.executeUpdate(recordSparePartShipmentUpdate, { args: [shipment] });
  return handle.executeUpdate(confirmSparePartReceiptUpdate, { args: [receipt] });
}

describe('sparePartLoanWorkflow with stubbed activities (time-skipping test server, no database, no SMTP)', () => {
  let h: WorkflowHarness;

  beforeAll(async () => {
    h = await startWorkflowHarness();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  test('approve, ship, receipt: each step calls its activity once, and the receipt answers with the deadline recordSparePartReceipt gave', async () => {
    const deadline = deadlineFrom(await h.env.currentTimeMs());
    await h.withWorker(loanStubs(deadline), async (worker) => {
      const handle = await startLoan(worker);
      const received = await loanAwaitingReturn(handle);
      expect(received).toMatchObject({ status: 'awaiting_return', deadline, remindersSent: [], remindersSkipped: [] });
      expect(worker.calls.map((call) => call.name)).toEqual(['acknowledgeSparePartApplication', 'recordSparePartDecision', 'recordSparePartShipment', 'recordSparePartReceipt']);
      expect(worker.callsTo('acknowledgeSparePartApplication')).toEqual([['case-1']]);
      expect(worker.callsTo('recordSparePartDecision')).toEqual([[{ caseId: 'case-1', decision: 'approved', stamp: approval }]]);
      expect(worker.callsTo('recordSparePartShipment')).toEqual([[{ caseId: 'case-1', shipment }]]);
      expect(worker.callsTo('recordSparePartReceipt')).toEqual([[{ caseId: 'case-1', receipt }]]);
      expect(await handle.query(sparePartStateQuery)).toMatchObject({ status: 'awaiting_return', deadline });
    });
  });

  test('reminders go out at their `at` instants (virtual time), with the due date and the working days left; the deadline passing marks the loan overdue', async () => {
    const deadline = deadlineFrom(await h.env.currentTimeMs());
    await h.withWorker(loanStubs(deadline), async (worker) => {
      const handle = await startLoan(worker);
      await loanAwaitingReturn(handle);
      const [first, second, last] = deadline.reminders as [ReturnDeadline['reminders'][number], ReturnDeadline['reminders'][number], ReturnDeadline['reminders'][number]];

      await sleepUntil(h.env, iso(Date.parse(first.at) - 60_000));
      expect(worker.callsTo('sendSparePartReminder')).toEqual([]);
      await sleepUntil(h.env, iso(Date.parse(first.at) + 1_000));
      const sent = await eventually(() => worker.callsTo('sendSparePartReminder'), (calls) => calls.length === 1);
      expect(sent[0]![0]).toEqual({ caseId: 'case-1', date: first.date, dueDate: deadline.dueDate, workingDaysLeft: 5, at: expect.any(String) });
      // Sent at the reminder's instant in workflow time, not when the test got there.
      expect(Date.parse(sent[0]![0].at!)).toBeGreaterThanOrEqual(Date.parse(first.at));
      expect(Date.parse(sent[0]![0].at!)).toBeLessThan(Date.parse(first.at) + 60_000);

      await sleepUntil(h.env, iso(Date.parse(last.at) + 1_000));
      const all = await eventually(() => worker.callsTo('sendSparePartReminder'), (calls) => calls.length === 3);
      expect(all.map(([reminder]) => [reminder.date, reminder.workingDaysLeft])).toEqual([
        [first.date, 5],
        [second.date, 1],
        [last.date, 0],
      ]);
      expect(worker.callsTo('markSparePartOverdue')).toEqual([]);
      expect(worker.callsTo('recordSkippedSparePartReminder')).toEqual([]);

      await sleepUntil(h.env, iso(Date.parse(deadline.dueAt) + 1_000));
      await eventually(() => worker.callsTo('markSparePartOverdue'), (calls) => calls.length === 1);
      expect(worker.callsTo('markSparePartOverdue')).toEqual([[{ caseId: 'case-1', at: deadline.dueAt }]]);
      expect(await eventually(() => handle.query(sparePartStateQuery), (state) => state.status === 'overdue')).toMatchObject({
        remindersSent: [first.date, second.date, last.date],
        remindersSkipped: [],
      });
    });
  });

  test('a reminder no longer true when it comes due (receipt recorded late) calls recordSkippedSparePartReminder instead of sending it', async () => {
    const now = await h.env.currentTimeMs();
    // The first reminder was due a day ago and stopped being true two hours ago; the others are ahead.
    const deadline = deadlineFrom(now - 3 * DAY);
    const [stale, next] = deadline.reminders as [ReturnDeadline['reminders'][number], ReturnDeadline['reminders'][number]];
    expect(Date.parse(stale.stillTrueUntil!)).toBeLessThan(now);
    await h.withWorker(loanStubs(deadline), async (worker) => {
      const handle = await startLoan(worker);
      await loanAwaitingReturn(handle);
      const skipped = await eventually(() => worker.callsTo('recordSkippedSparePartReminder'), (calls) => calls.length === 1);
      expect(skipped[0]![0]).toEqual({ caseId: 'case-1', date: stale.date, workingDaysLeft: 5, stillTrueUntil: stale.stillTrueUntil, at: expect.any(String) });
      expect(worker.callsTo('sendSparePartReminder')).toEqual([]);
      expect(await handle.query(sparePartStateQuery)).toMatchObject({ remindersSkipped: [stale.date], remindersSent: [] });

      await sleepUntil(h.env, iso(Date.parse(next.at) + 1_000));
      const sent = await eventually(() => worker.callsTo('sendSparePartReminder'), (calls) => calls.length === 1);
      expect(sent[0]![0]).toMatchObject({ date: next.date, workingDaysLeft: 1 });
      expect(worker.callsTo('recordSkippedSparePartReminder')).toHaveLength(1);
    });
  });

  test('a step not allowed in the current status is refused with an InvalidTransition ApplicationFailure and calls no activity', async () => {
    const deadline = deadlineFrom(await h.env.currentTimeMs());
    await h.withWorker(loanStubs(deadline), async (worker) => {
      const handle = await startLoan(worker);
      const early = await handle.executeUpdate(recordSparePartShipmentUpdate, { args: [shipment] }).catch((error: unknown) => error);
      expect(early).toBeInstanceOf(WorkflowUpdateFailedError);
      const failure = (early as WorkflowUpdateFailedError).cause;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: INVALID_TRANSITION, message: expect.stringContaining('is waiting for approval') });

      await handle.executeUpdate(approveSparePartUpdate, { args: [approval] });
      const twice = await handle.executeUpdate(approveSparePartUpdate, { args: [approval] }).catch((error: unknown) => error);
      expect((twice as WorkflowUpdateFailedError).cause).toMatchObject({ type: INVALID_TRANSITION, message: expect.stringContaining('is already approved') });
      const returnTooSoon = await handle
        .executeUpdate(recordSparePartReturnUpdate, { args: [{ ...stamp('service_desk'), returnedSerial: 'SN-1', faultTagPresent: true, discrepancy: null, receivedAt: receipt.receivedAt }] })
        .catch((error: unknown) => error);
      expect((returnTooSoon as WorkflowUpdateFailedError).cause).toMatchObject({ type: INVALID_TRANSITION });

      // Only the acknowledgement at the start and the one approval that was allowed.
      expect(worker.calls.map((call) => call.name)).toEqual(['acknowledgeSparePartApplication', 'recordSparePartDecision']);
      expect(await handle.query(sparePartStateQuery)).toMatchObject({ status: 'approved' });
    });
  });

  test('an activity the test did not stub fails the step with "not stubbed: <name>", not a hang', async () => {
    const { recordSparePartShipment: _unused, ...stubs } = loanStubs(deadlineFrom(await h.env.currentTimeMs()));
    await h.withWorker(stubs, async (worker) => {
      const handle = await startLoan(worker);
      await handle.executeUpdate(approveSparePartUpdate, { args: [approval] });
      const failed = await handle.executeUpdate(recordSparePartShipmentUpdate, { args: [shipment] }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(WorkflowUpdateFailedError);
      // The local activity's failure, in the update's failure or (wrapped as an ActivityFailure) its cause.
      const notStubbed = causesOf(failed).find((cause) => cause instanceof ApplicationFailure && cause.type === NOT_STUBBED);
      expect(notStubbed?.message).toBe('not stubbed: recordSparePartShipment');
      expect(worker.callsTo('recordSparePartShipment')).toHaveLength(1);
    });
  });
});
