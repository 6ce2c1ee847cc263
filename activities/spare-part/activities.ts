import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { caseStatusUpdate, nextCaseNumber } from '../../db/repositories/cases';
import { insertRmaRepairCase } from '../../db/repositories/rma-repairs';
import type { Database } from '../../db/schema';
import { BUSINESS_RULE_VIOLATION } from '../../workflows/shared/definitions';
import { SPARE_PART_FINAL_STATUSES, type DecisionInput, type SparePartPaymentInput, type SparePartReceiptInput, type RejectionInput, type ReturnDeadline, type SparePartReturnInput, type SparePartShipmentInput, type SparePartStatus } from '../../workflows/spare-part/definitions';
import { auditEventInsert } from '../shared/audit';
import type { Clock } from '../shared/clock';
import { createCaseStepRunner, type StepEmail, type StepWrite } from '../shared/case-step';
import type { SignedLinks } from '../shared/signed-links';
import { replacementWarranty } from '../../workflows/rules/goods';
import { HOUR_MS, addCalendarDays, dayNumber, shanghaiDate, shanghaiInstantMs } from '../../workflows/rules/time';
import { nextBillingCycle } from '../shared/billing';

export const CONFIRM_RECEIPT_ACTION = 'spare-part.confirm-receipt';
export const RETURN_WORKING_DAYS = 15;
/** Reminders go out this many working days before the due day (0 = on the day), at 09:00 China time. */
export const REMINDER_WORKING_DAYS_BEFORE = [5, 1, 0] as const;
const REMINDER_HOUR = 9;

/** What the spare-part activities need of the business calendar. */
export interface WorkingDayCalendar {
  addWorkingDays(from: string, days: number): { due: string; dueAt: string; provisional: boolean; missingYears: number[] };
  isWorkingDay(date: string): boolean;
}

export interface SparePartLoanSummary {
  caseId: string;
  loanNumber: string;
  customerId: string;
  customerName: string;
  contactId: string;
  failedDeviceId: string;
  failedSerial: string;
}

function workingDaysBefore(calendar: WorkingDayCalendar, date: string, count: number): string {
  let day = date;
  for (let found = 0; found < count; ) {
    day = addCalendarDays(day, -1);
    if (calendar.isWorkingDay(day)) found += 1;
  }
  return day;
}

function nextWorkingDay(calendar: WorkingDayCalendar, date: string): string {
  let day = addCalendarDays(date, 1);
  while (!calendar.isWorkingDay(day)) day = addCalendarDays(day, 1);
  return day;
}

/** The return deadline for a replacement received at `receivedAt`: 15 China working days, with its reminder schedule. */
export function returnDeadline(calendar: WorkingDayCalendar, receivedAt: Date): ReturnDeadline {
  const receivedOn = shanghaiDate(receivedAt.getTime());
  const due = calendar.addWorkingDays(receivedOn, RETURN_WORKING_DAYS);
  return {
    dueDate: due.due,
    dueAt: due.dueAt,
    provisional: due.provisional,
    missingYears: due.missingYears,
    reminders: REMINDER_WORKING_DAYS_BEFORE.map((before) => {
      const date = before === 0 ? due.due : workingDaysBefore(calendar, due.due, before);
      // "N working days left" stays true until the next working day begins; "today is the last day" until the deadline.
      const stillTrueUntil = new Date(before === 0 ? Date.parse(due.dueAt) : shanghaiInstantMs(dayNumber(nextWorkingDay(calendar, date)), 0)).toISOString();
      return { date, at: new Date(shanghaiInstantMs(dayNumber(date), REMINDER_HOUR * HOUR_MS)).toISOString(), workingDaysLeft: before, stillTrueUntil };
    }).filter((reminder) => reminder.date > receivedOn),
  };
}

function ruleViolation(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, BUSINESS_RULE_VIOLATION);
}

export interface SparePartActivityDependencies {
  db: Db;
  clock: Clock;
  links: SignedLinks;
  calendar: () => Promise<WorkingDayCalendar>;
  /** Told after a step committed outbox rows, so that the outbox relay of this process sends them at once. */
  emailsQueued?: () => void;
  /** One info line per committed step (never a body or a link). */
  logger: Pick<Logger, 'info'>;
}

/**
 * How a step shows in the log: its name, the role of who took it, and the key of its audit entry
 * (`<loan number>/<key>`, the step name unless given).
 */
type LoanRow = Awaited<ReturnType<typeof loanRow>>;

/**
 * The loan with what its steps need: the failed part (serial, product and list price), the
 * customer's name, billing day and downgrade, and the contact's address. `lockCustomer` (inside a
 * transaction) holds the customer row, so that steps that downgrade the customer or lift the
 * downgrade see each other's loans.
 */
async function loanRow(executor: DbExecutor, caseId: string, lockCustomer = false) {
  const query = executor
    .selectFrom('spare_part_loans as l')
    .innerJoin('devices as d', 'd.id', 'l.failed_device_id')
    .innerJoin('products as p', 'p.id', 'd.product_id')
    .innerJoin('customers as c', 'c.id', 'l.customer_id')
    .innerJoin('contacts as k', 'k.id', 'l.contact_id')
    .selectAll('l')
    .select([
      'd.serial as failed_serial',
      'd.product_id as failed_product_id',
      'd.site_id as failed_site_id',
      'd.warranty_end as failed_warranty_end',
      'p.code as product_code',
      'p.name as product_name',
      'p.list_price_cents',
      'c.name as customer_name',
      'c.billing_day',
      'c.service_downgrade',
      'k.email as contact_email',
      'k.locale as contact_locale',
    ])
    .where('l.case_id', '=', caseId);
  const loan = await (lockCustomer ? query.forUpdate('c') : query).executeTakeFirst();
  // Retryable: the API commits the loan before it starts the workflow, but an older API instance
  // (during a rolling deploy) may still start it inside that transaction.
  if (!loan) throw ApplicationFailure.retryable(`no spare-part loan for case ${caseId} (yet)`, 'LoanNotFound');
  return loan;
}

function summaryOf(loan: LoanRow): SparePartLoanSummary {
  return {
    caseId: loan.case_id,
    loanNumber: loan.loan_number,
    customerId: loan.customer_id,
    customerName: loan.customer_name,
    contactId: loan.contact_id,
    failedDeviceId: loan.failed_device_id,
    failedSerial: loan.failed_serial,
  };
}

/** The loan's status change and its case's, as writes of one step. */
function statusWrites(db: DbExecutor, caseId: string, status: SparePartStatus, at: Date, changes: Updateable<Database['spare_part_loans']> = {}): StepWrite[] {
  return [
    db
      .updateTable('spare_part_loans')
      .set({ ...changes, status, updated_at: at })
      .where('case_id', '=', caseId),
    caseStatusUpdate(db, caseId, status, at, SPARE_PART_FINAL_STATUSES.includes(status)),
  ];
}

/**
 * Lifts the customer's downgrade once no overdue loan of theirs is left unwritten-off, besides this
 * one (which the same step writes off). Needs the customer row locked (`lockCustomer`).
 */
async function downgradeLift(db: DbExecutor, loan: LoanRow): Promise<StepWrite[]> {
  if (loan.service_downgrade !== 'return_for_repair') return [];
  const otherOverdue = await db
    .selectFrom('spare_part_loans')
    .select('loan_number')
    .where('customer_id', '=', loan.customer_id)
    .where('status', '=', 'overdue')
    .where('case_id', '!=', loan.case_id)
    .executeTakeFirst();
  if (otherOverdue) return [];
  return [
    db
      .updateTable('customers')
      .set({ service_downgrade: 'none', downgraded_at: null })
      .where('id', '=', loan.customer_id)
      .where('service_downgrade', '=', 'return_for_repair'),
  ];
}

/**
 * The failed part goes into repair back into stock: an internal RMA case (no customer leg) linked to
 * the loan's case, once per loan (a retried step finds it and answers it again).
 */
async function openInternalRma(trx: DbExecutor, loan: LoanRow, rmaNumber: string, receipt: SparePartReturnInput, arrivedAt: Date) {
  return insertRmaRepairCase(trx, rmaNumber, {
    origin: 'spare_part_return',
    customerId: loan.customer_id,
    contactId: null,
    originCaseId: loan.case_id,
    parts: [{ deviceId: loan.failed_device_id, faultDescription: loan.fault_description }],
    openedBy: receipt.actor,
    openedByRole: receipt.role,
    openedAt: arrivedAt,
  });
}

export function createSparePartActivities({ db, clock, links, calendar, emailsQueued, logger }: SparePartActivityDependencies) {
  const loanStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'spare-part',
      load: (trx, caseId, options: { lockCustomer?: boolean } | undefined) => loanRow(trx, caseId, options?.lockCustomer),
      caseId: (loan) => loan.case_id,
      caseNumber: (loan) => loan.loan_number,
      contact: (loan) => ({ email: loan.contact_email, locale: loan.contact_locale }),
    },
  );

  return {
    /** Acknowledges the application to the customer and gives the workflow what it checks returns against. */
    async acknowledgeSparePartApplication(caseId: string): Promise<SparePartLoanSummary> {
      return loanStep(caseId, { step: 'application-acknowledged', actorRole: 'system' }, async (loan) => ({
        writes: [],
        emails: [{ key: 'application-received', content: { template: 'spare_part_application_received', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial } } }],
        result: summaryOf(loan),
      }));
    },

    async recordSparePartDecision(
      input: { caseId: string } & ({ decision: 'approved'; stamp: DecisionInput } | { decision: 'rejected'; stamp: RejectionInput }),
    ): Promise<void> {
      const at = new Date(input.stamp.at);
      const comment = input.decision === 'rejected' ? input.stamp.reason : (input.stamp.comment ?? null);
      await loanStep(input.caseId, { step: input.decision, actorRole: input.stamp.role, key: 'decision' }, async (loan, trx) => ({
        writes: [
          ...statusWrites(trx, input.caseId, input.decision, at, { decided_by: input.stamp.actor, decided_at: at, decision_comment: comment }),
          auditEventInsert(trx, {
            caseId: input.caseId,
            occurredAt: input.stamp.at,
            actor: input.stamp.actor,
            actorRole: input.stamp.role,
            action: input.decision === 'approved' ? 'spare_part.approved' : 'spare_part.rejected',
            comment,
            idempotencyKey: `${loan.loan_number}/decision`,
          }),
        ],
        emails:
          input.decision === 'rejected'
            ? [{ key: 'rejected', content: { template: 'spare_part_rejected', params: { loanNumber: loan.loan_number, reason: input.stamp.reason } } }]
            : [],
        result: undefined,
      }));
    },

    async recordSparePartShipment(input: { caseId: string; shipment: SparePartShipmentInput }): Promise<{ warrantyEnd: string }> {
      const { shipment } = input;
      const shippedAt = new Date(shipment.shippedAt);
      return loanStep(input.caseId, { step: 'shipped', actorRole: shipment.role }, async (loan, trx) => {
        if (shipment.replacementSerial === loan.failed_serial) throw ruleViolation('the replacement serial is the failed device itself');
        const existing = await trx.selectFrom('devices').select(['id', 'customer_id']).where('serial', '=', shipment.replacementSerial).executeTakeFirst();
        if (existing && existing.customer_id !== loan.customer_id) {
          throw ruleViolation(`serial ${shipment.replacementSerial} is installed at another customer`);
        }
        const warrantyEnd = replacementWarranty(shanghaiDate(shippedAt.getTime()), loan.failed_warranty_end).endsOn;
        const link = links.issue({ caseId: input.caseId, action: CONFIRM_RECEIPT_ACTION, singleUse: true, ttlHours: 24 * 60 });
        return {
          writes: [
            trx
              .insertInto('devices')
              .values({
                serial: shipment.replacementSerial,
                product_id: loan.failed_product_id,
                customer_id: loan.customer_id,
                site_id: loan.failed_site_id,
                warranty_end: warrantyEnd,
                first_power_on_at: null,
              })
              .onConflict((oc) => oc.column('serial').doUpdateSet({ warranty_end: warrantyEnd, site_id: loan.failed_site_id, product_id: loan.failed_product_id })),
            ...statusWrites(trx, input.caseId, 'shipped', new Date(shipment.at), {
              replacement_serial: shipment.replacementSerial,
              carrier: shipment.carrier,
              tracking_number: shipment.trackingNumber,
              shipped_at: shippedAt,
              replacement_warranty_end: warrantyEnd,
            }),
            auditEventInsert(trx, {
              caseId: input.caseId,
              occurredAt: shipment.at,
              actor: shipment.actor,
              actorRole: shipment.role,
              action: 'spare_part.shipped',
              data: { replacementSerial: shipment.replacementSerial, carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, warrantyEnd },
              idempotencyKey: `${loan.loan_number}/shipped`,
            }),
          ],
          emails: [
            {
              key: 'shipped',
              content: {
                template: 'spare_part_shipped',
                params: {
                  loanNumber: loan.loan_number,
                  replacementSerial: shipment.replacementSerial,
                  carrier: shipment.carrier,
                  trackingNumber: shipment.trackingNumber,
                  confirmReceiptUrl: link.url,
                  warrantyEnd,
                },
              },
            },
          ],
          result: { warrantyEnd },
        };
      });
    },

    async recordSparePartReceipt(input: { caseId: string; receipt: SparePartReceiptInput }): Promise<ReturnDeadline> {
      const { receipt } = input;
      const deadline = returnDeadline(await calendar(), new Date(receipt.receivedAt));
      return loanStep(input.caseId, { step: 'received', actorRole: receipt.role }, async (loan, trx) => ({
        writes: [
          ...statusWrites(trx, input.caseId, 'awaiting_return', new Date(receipt.at), {
            received_at: new Date(receipt.receivedAt),
            receipt_confirmed_by: `${receipt.actor} (${receipt.role})`,
            receipt_discrepancy: receipt.discrepancy,
            return_due_date: deadline.dueDate,
            return_due_at: new Date(deadline.dueAt),
            return_deadline_provisional: deadline.provisional,
            return_deadline_missing_years: deadline.missingYears,
            first_reminder_date: deadline.reminders[0]?.date ?? deadline.dueDate,
            reminder_dates: deadline.reminders.map((reminder) => reminder.date),
          }),
          auditEventInsert(trx, {
            caseId: input.caseId,
            occurredAt: receipt.at,
            actor: receipt.actor,
            actorRole: receipt.role,
            action: 'spare_part.received',
            comment: receipt.discrepancy,
            data: { receivedAt: receipt.receivedAt, deadline },
            idempotencyKey: `${loan.loan_number}/received`,
          }),
        ],
        emails: [
          {
            key: 'return-deadline',
            content: {
              template: 'spare_part_return_deadline',
              params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, dueDate: deadline.dueDate, provisional: deadline.provisional },
            },
          },
        ],
        result: deadline,
      }));
    },

    /** `at`: when the workflow found the reminder due (workflow time); absent from loans started before it was passed. */
    async sendSparePartReminder(input: { caseId: string; date: string; dueDate: string; workingDaysLeft: number; at?: string }): Promise<void> {
      await loanStep(input.caseId, { step: 'reminder-sent', actorRole: 'system', key: `reminder/${input.date}` }, async (loan, trx) => ({
        writes: [
          auditEventInsert(trx, {
            caseId: input.caseId,
            occurredAt: input.at ?? clock.now().toISOString(),
            actor: 'system',
            actorRole: 'system',
            action: 'spare_part.reminder_sent',
            data: { date: input.date, workingDaysLeft: input.workingDaysLeft },
            idempotencyKey: `${loan.loan_number}/reminder/${input.date}`,
          }),
        ],
        emails: [
          {
            key: `reminder/${input.date}`,
            content: {
              template: 'spare_part_return_reminder',
              params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, dueDate: input.dueDate, workingDaysLeft: input.workingDaysLeft },
            },
          },
        ],
        result: undefined,
      }));
    },

    /**
     * A reminder that was no longer true when its turn came (the worker was away past its day, or the
     * receipt was recorded late): recorded as skipped, not sent. It takes the audit key a sent reminder
     * of that day would have, so a day's reminder is either sent or skipped, once.
     */
    async recordSkippedSparePartReminder(input: { caseId: string; date: string; workingDaysLeft: number; stillTrueUntil: string; at: string }): Promise<void> {
      await loanStep(input.caseId, { step: 'reminder-skipped', actorRole: 'system', key: `reminder/${input.date}` }, async (loan, trx) => ({
        writes: [
          auditEventInsert(trx, {
            caseId: input.caseId,
            occurredAt: input.at,
            actor: 'system',
            actorRole: 'system',
            action: 'spare_part.reminder_skipped',
            comment: `the reminder of ${input.date} (${input.workingDaysLeft} working days left) was true until ${input.stillTrueUntil} and came due only at ${input.at}: not sent`,
            data: { date: input.date, workingDaysLeft: input.workingDaysLeft, stillTrueUntil: input.stillTrueUntil },
            idempotencyKey: `${loan.loan_number}/reminder/${input.date}`,
          }),
        ],
        result: undefined,
      }));
    },

    /**
     * The due day ended without the part: bill it at list price in the next cycle, downgrade the
     * customer, and tell the customer and every manager.
     */
    async markSparePartOverdue(input: { caseId: string; at: string }): Promise<{ amountCents: number; billingCycle: string; managersNotified: number }> {
      const at = new Date(input.at);
      return loanStep(
        input.caseId,
        { step: 'overdue', actorRole: 'system' },
        async (loan, trx) => {
          const billingCycle = nextBillingCycle(at, loan.billing_day);
          const amountCents = loan.list_price_cents;
          const managers = await trx.selectFrom('users').select(['id', 'email']).where('role', '=', 'manager').where('disabled_at', 'is', null).execute();
          return {
            writes: [
              trx
                .insertInto('invoice_lines')
                .values({
                  customer_id: loan.customer_id,
                  case_id: loan.case_id,
                  billing_cycle: billingCycle,
                  description: `Spare-part loan ${loan.loan_number}: failed part ${loan.failed_serial} (${loan.product_code} ${loan.product_name}) not returned, billed at list price`,
                  amount_cents: amountCents,
                  source_ref: `spare-part/${loan.loan_number}/overdue`,
                  issued_at: null,
                })
                .onConflict((oc) => oc.column('source_ref').doNothing()),
              ...statusWrites(trx, input.caseId, 'overdue', at, { overdue_at: at }),
              trx
                .updateTable('customers')
                .set({ service_downgrade: 'return_for_repair', downgraded_at: at })
                .where('id', '=', loan.customer_id)
                .where('service_downgrade', '=', 'none'),
              auditEventInsert(trx, {
                caseId: input.caseId,
                occurredAt: input.at,
                actor: 'system',
                actorRole: 'system',
                action: 'spare_part.overdue',
                comment: `billed ${amountCents} fen in cycle ${billingCycle}; customer downgraded to return-for-repair`,
                data: { amountCents, billingCycle },
                idempotencyKey: `${loan.loan_number}/overdue`,
              }),
            ],
            emails: [
              {
                key: 'overdue',
                content: { template: 'spare_part_overdue_customer', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, amountCents, billingCycle } },
              },
              ...managers.map((manager): StepEmail => ({
                key: `overdue/manager/${manager.id}`,
                content: {
                  template: 'spare_part_overdue_manager',
                  params: { loanNumber: loan.loan_number, customerName: loan.customer_name, failedSerial: loan.failed_serial, amountCents },
                },
                to: { email: manager.email, locale: 'zh-CN' },
              })),
            ],
            result: { amountCents, billingCycle, managersNotified: managers.length },
          };
        },
        { lockCustomer: true },
      );
    },

    /**
     * The failed part arrived. On time: the loan closes. Late (overdue): the loan is written off, an
     * invoice line not yet issued is cancelled by a credit line, and the downgrade lifts when no other
     * overdue loan is left. Either way the part goes into repair back into stock: an internal RMA case,
     * whose workflow the loan's workflow starts (its number is in the result).
     */
    async recordSparePartReturn(input: {
      caseId: string;
      receipt: SparePartReturnInput;
    }): Promise<{ status: 'returned' | 'written_off'; credited: boolean; downgradeLifted: boolean; rmaCaseId: string; rmaCaseNumber: string; rmaWorkflowId: string }> {
      const { receipt } = input;
      const arrivedAt = new Date(receipt.receivedAt);
      // Drawn outside the step's transaction (nextCaseNumber says why); unused when a retry finds the RMA already opened.
      const rmaNumber = await nextCaseNumber(db, 'RMA', Number(shanghaiDate(arrivedAt.getTime()).slice(0, 4)));
      return loanStep(
        input.caseId,
        { step: 'returned', actorRole: receipt.role },
        async (loan, trx) => {
          const late = loan.status === 'overdue' || loan.status === 'written_off';
          const changes = { returned_at: arrivedAt, return_discrepancy: receipt.discrepancy, fault_tag_present: receipt.faultTagPresent };
          const writes: StepWrite[] = [];
          let credited = false;
          let downgradeLifted = false;
          if (late) {
            writes.push(...statusWrites(trx, input.caseId, 'written_off', new Date(receipt.at), { ...changes, written_off_at: new Date(receipt.at), write_off_reason: 'late_return' }));
            const charge = await trx.selectFrom('invoice_lines').selectAll().where('source_ref', '=', `spare-part/${loan.loan_number}/overdue`).executeTakeFirst();
            if (charge && charge.issued_at === null) {
              writes.push(
                trx
                  .insertInto('invoice_lines')
                  .values({
                    customer_id: charge.customer_id,
                    case_id: charge.case_id,
                    billing_cycle: charge.billing_cycle,
                    description: `Credit: failed part of spare-part loan ${loan.loan_number} returned late, before invoicing`,
                    amount_cents: -charge.amount_cents,
                    source_ref: `spare-part/${loan.loan_number}/overdue/credit`,
                    issued_at: null,
                  })
                  .onConflict((oc) => oc.column('source_ref').doNothing()),
              );
              credited = true;
            }
            const lift = await downgradeLift(trx, loan);
            writes.push(...lift);
            downgradeLifted = lift.length > 0;
          } else {
            writes.push(...statusWrites(trx, input.caseId, 'returned', new Date(receipt.at), changes));
          }
          const rma = await openInternalRma(trx, loan, rmaNumber, receipt, arrivedAt);
          writes.push(
            auditEventInsert(trx, {
              caseId: input.caseId,
              occurredAt: receipt.at,
              actor: receipt.actor,
              actorRole: receipt.role,
              action: late ? 'spare_part.returned_late' : 'spare_part.returned',
              comment: receipt.discrepancy,
              data: { returnedSerial: receipt.returnedSerial, faultTagPresent: receipt.faultTagPresent, credited, downgradeLifted, rmaCaseNumber: rma.caseNumber },
              idempotencyKey: `${loan.loan_number}/returned`,
            }),
          );
          return {
            writes,
            emails: [{ key: 'closed', content: { template: 'spare_part_closed', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, writtenOff: late } } }],
            result: { status: late ? 'written_off' : 'returned', credited, downgradeLifted, rmaCaseId: rma.caseId, rmaCaseNumber: rma.caseNumber, rmaWorkflowId: rma.workflowId },
          };
        },
        { lockCustomer: true },
      );
    },

    async recordSparePartPayment(input: { caseId: string; payment: SparePartPaymentInput }): Promise<{ downgradeLifted: boolean }> {
      const { payment } = input;
      return loanStep(
        input.caseId,
        { step: 'paid', actorRole: payment.role },
        async (loan, trx) => {
          const lift = await downgradeLift(trx, loan);
          const downgradeLifted = lift.length > 0;
          return {
            writes: [
              ...statusWrites(trx, input.caseId, 'written_off', new Date(payment.at), {
                written_off_at: new Date(payment.at),
                write_off_reason: 'payment',
                payment_reference: payment.reference,
              }),
              ...lift,
              auditEventInsert(trx, {
                caseId: input.caseId,
                occurredAt: payment.at,
                actor: payment.actor,
                actorRole: payment.role,
                action: 'spare_part.paid',
                comment: `payment ${payment.reference}`,
                data: { reference: payment.reference, downgradeLifted },
                idempotencyKey: `${loan.loan_number}/paid`,
              }),
            ],
            emails: [{ key: 'closed', content: { template: 'spare_part_closed', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, writtenOff: true } } }],
            result: { downgradeLifted },
          };
        },
        { lockCustomer: true },
      );
    },
  };
}
