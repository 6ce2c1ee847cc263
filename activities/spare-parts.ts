import { ApplicationFailure } from '@temporalio/common';
import type { Transaction } from 'kysely';
import type { Db, DbExecutor } from '../db';
import { setCaseStatus } from '../db/repositories/cases';
import type { Database, SparePartLoan } from '../db/schema';
import type { Updateable } from 'kysely';
import {
  BUSINESS_RULE_VIOLATION,
  SPARE_PART_FINAL_STATUSES,
  type DecisionInput,
  type PaymentInput,
  type ReceiptInput,
  type RejectionInput,
  type ReturnDeadline,
  type ReturnInput,
  type ShipmentInput,
  type SparePartStatus,
} from '../workflows/definitions';
import { appendAuditEvent } from './audit';
import type { Clock } from './clock';
import { enqueueEmail, type EmailDelivery, type SendEmailInput } from './email';
import type { SignedLinks } from './signed-links';
import { replacementWarranty } from '../workflows/rules/goods';
import { HOUR_MS, addCalendarDays, dayNumber, shanghaiDate, shanghaiInstantMs } from '../workflows/rules/time';
import { nextBillingCycle } from './billing';

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

type Trx = Transaction<Database>;

function workingDaysBefore(calendar: WorkingDayCalendar, date: string, count: number): string {
  let day = date;
  for (let found = 0; found < count; ) {
    day = addCalendarDays(day, -1);
    if (calendar.isWorkingDay(day)) found += 1;
  }
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
      return { date, at: new Date(shanghaiInstantMs(dayNumber(date), REMINDER_HOUR * HOUR_MS)).toISOString(), workingDaysLeft: before };
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
  deliverEmail: EmailDelivery;
}

type QueueEmail = (key: string, email: Omit<SendEmailInput, 'idempotencyKey' | 'caseId' | 'to'>, to?: SendEmailInput['to']) => Promise<void>;
type LoanRow = Awaited<ReturnType<typeof loanRow>>;

/** The loan with what its emails need: the failed part's serial, the customer's name and the contact's address. */
async function loanRow(executor: DbExecutor, caseId: string) {
  const loan = await executor
    .selectFrom('spare_part_loans as l')
    .innerJoin('devices as d', 'd.id', 'l.failed_device_id')
    .innerJoin('customers as c', 'c.id', 'l.customer_id')
    .innerJoin('contacts as k', 'k.id', 'l.contact_id')
    .selectAll('l')
    .select(['d.serial as failed_serial', 'c.name as customer_name', 'k.email as contact_email', 'k.locale as contact_locale'])
    .where('l.case_id', '=', caseId)
    .executeTakeFirst();
  // Retryable: the workflow starts inside the transaction that inserts the loan, so its first step
  // can run before that commit is visible (and the API terminates the workflow if the commit fails).
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

export function createSparePartActivities({ db, links, calendar, deliverEmail }: SparePartActivityDependencies) {
  /**
   * One step of a loan: its changes, audit entry and emails are written in one transaction, keyed so
   * that a retried attempt changes nothing twice; the emails are sent once the transaction has committed.
   */
  async function loanStep<T>(caseId: string, work: (trx: Trx, loan: LoanRow, queueEmail: QueueEmail) => Promise<T>): Promise<T> {
    const queued: string[] = [];
    const result = await db.transaction().execute(async (trx) => {
      const loan = await loanRow(trx, caseId);
      const queueEmail: QueueEmail = async (key, email, to = { email: loan.contact_email, locale: loan.contact_locale }) => {
        const input = { ...email, idempotencyKey: `spare-part/${loan.loan_number}/${key}`, caseId, to } as SendEmailInput;
        queued.push(await enqueueEmail(trx, input));
      };
      return work(trx, loan, queueEmail);
    });
    await Promise.all(queued.map((key) => deliverEmail(key)));
    return result;
  }

  async function setStatus(trx: Trx, caseId: string, status: SparePartStatus, at: Date, changes: Updateable<Database['spare_part_loans']> = {}) {
    await trx
      .updateTable('spare_part_loans')
      .set({ ...changes, status, updated_at: at })
      .where('case_id', '=', caseId)
      .execute();
    await setCaseStatus(trx, caseId, status, at, SPARE_PART_FINAL_STATUSES.includes(status));
  }

  /** Lifts the customer's downgrade once no overdue loan of theirs is left unwritten-off. */
  async function liftDowngradeIfClear(trx: Trx, customerId: string): Promise<boolean> {
    const stillOverdue = await trx
      .selectFrom('spare_part_loans')
      .select('loan_number')
      .where('customer_id', '=', customerId)
      .where('status', '=', 'overdue')
      .executeTakeFirst();
    if (stillOverdue) return false;
    const lifted = await trx
      .updateTable('customers')
      .set({ service_downgrade: 'none', downgraded_at: null })
      .where('id', '=', customerId)
      .where('service_downgrade', '=', 'return_for_repair')
      .executeTakeFirst();
    return lifted.numUpdatedRows > 0n;
  }

  async function openRmaRepair(trx: Trx, loan: SparePartLoan, receivedAt: Date) {
    await trx
      .insertInto('rma_repairs')
      .values({
        source_ref: `${loan.loan_number}/returned-part`,
        customer_id: loan.customer_id,
        device_id: loan.failed_device_id,
        origin_case_id: loan.case_id,
        fault_description: loan.fault_description,
        received_at: receivedAt,
      })
      .onConflict((oc) => oc.column('source_ref').doNothing())
      .execute();
  }

  return {
    /** Acknowledges the application to the customer and gives the workflow what it checks returns against. */
    async acknowledgeSparePartApplication(caseId: string): Promise<SparePartLoanSummary> {
      return loanStep(caseId, async (_trx, loan, queueEmail) => {
        await queueEmail('application-received', { template: 'spare_part_application_received', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial } });
        return summaryOf(loan);
      });
    },

    async recordSparePartDecision(
      input: { caseId: string } & ({ decision: 'approved'; stamp: DecisionInput } | { decision: 'rejected'; stamp: RejectionInput }),
    ): Promise<void> {
      const at = new Date(input.stamp.at);
      const comment = input.decision === 'rejected' ? input.stamp.reason : (input.stamp.comment ?? null);
      await loanStep(input.caseId, async (trx, loan, queueEmail) => {
        await setStatus(trx, input.caseId, input.decision, at, { decided_by: input.stamp.actor, decided_at: at, decision_comment: comment });
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: input.stamp.at,
          actor: input.stamp.actor,
          actorRole: input.stamp.role,
          action: input.decision === 'approved' ? 'spare_part.approved' : 'spare_part.rejected',
          comment,
          idempotencyKey: `${loan.loan_number}/decision`,
        });
        if (input.decision === 'rejected') {
          await queueEmail('rejected', { template: 'spare_part_rejected', params: { loanNumber: loan.loan_number, reason: input.stamp.reason } });
        }
      });
    },

    async recordSparePartShipment(input: { caseId: string; shipment: ShipmentInput }): Promise<{ warrantyEnd: string }> {
      const { shipment } = input;
      const shippedAt = new Date(shipment.shippedAt);
      return loanStep(input.caseId, async (trx, loan, queueEmail) => {
        const failed = await trx.selectFrom('devices').selectAll().where('id', '=', loan.failed_device_id).executeTakeFirstOrThrow();
        if (shipment.replacementSerial === failed.serial) throw ruleViolation('the replacement serial is the failed device itself');
        const existing = await trx.selectFrom('devices').select(['id', 'customer_id']).where('serial', '=', shipment.replacementSerial).executeTakeFirst();
        if (existing && existing.customer_id !== loan.customer_id) {
          throw ruleViolation(`serial ${shipment.replacementSerial} is installed at another customer`);
        }
        const warrantyEnd = replacementWarranty(shanghaiDate(shippedAt.getTime()), failed.warranty_end).endsOn;
        await trx
          .insertInto('devices')
          .values({
            serial: shipment.replacementSerial,
            product_id: failed.product_id,
            customer_id: loan.customer_id,
            site_id: failed.site_id,
            warranty_end: warrantyEnd,
            first_power_on_at: null,
          })
          .onConflict((oc) => oc.column('serial').doUpdateSet({ warranty_end: warrantyEnd, site_id: failed.site_id, product_id: failed.product_id }))
          .execute();
        await setStatus(trx, input.caseId, 'shipped', new Date(shipment.at), {
          replacement_serial: shipment.replacementSerial,
          carrier: shipment.carrier,
          tracking_number: shipment.trackingNumber,
          shipped_at: shippedAt,
          replacement_warranty_end: warrantyEnd,
        });
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: shipment.at,
          actor: shipment.actor,
          actorRole: shipment.role,
          action: 'spare_part.shipped',
          data: { replacementSerial: shipment.replacementSerial, carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, warrantyEnd },
          idempotencyKey: `${loan.loan_number}/shipped`,
        });
        const link = links.issue({ caseId: input.caseId, action: CONFIRM_RECEIPT_ACTION, singleUse: true, ttlHours: 24 * 60 });
        await queueEmail('shipped', {
          template: 'spare_part_shipped',
          params: {
            loanNumber: loan.loan_number,
            replacementSerial: shipment.replacementSerial,
            carrier: shipment.carrier,
            trackingNumber: shipment.trackingNumber,
            confirmReceiptUrl: link.url,
            warrantyEnd,
          },
        });
        return { warrantyEnd };
      });
    },

    async recordSparePartReceipt(input: { caseId: string; receipt: ReceiptInput }): Promise<ReturnDeadline> {
      const { receipt } = input;
      const deadline = returnDeadline(await calendar(), new Date(receipt.receivedAt));
      await loanStep(input.caseId, async (trx, loan, queueEmail) => {
        await setStatus(trx, input.caseId, 'awaiting_return', new Date(receipt.at), {
          received_at: new Date(receipt.receivedAt),
          receipt_confirmed_by: `${receipt.actor} (${receipt.role})`,
          receipt_discrepancy: receipt.discrepancy,
          return_due_date: deadline.dueDate,
          return_due_at: new Date(deadline.dueAt),
          return_deadline_provisional: deadline.provisional,
          return_deadline_missing_years: deadline.missingYears,
          first_reminder_date: deadline.reminders[0]?.date ?? deadline.dueDate,
          reminder_dates: deadline.reminders.map((reminder) => reminder.date),
        });
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: receipt.at,
          actor: receipt.actor,
          actorRole: receipt.role,
          action: 'spare_part.received',
          comment: receipt.discrepancy,
          data: { receivedAt: receipt.receivedAt, deadline },
          idempotencyKey: `${loan.loan_number}/received`,
        });
        await queueEmail('return-deadline', {
          template: 'spare_part_return_deadline',
          params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, dueDate: deadline.dueDate, provisional: deadline.provisional },
        });
      });
      return deadline;
    },

    async sendSparePartReminder(input: { caseId: string; date: string; dueDate: string; workingDaysLeft: number }): Promise<void> {
      await loanStep(input.caseId, async (trx, loan, queueEmail) => {
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: new Date().toISOString(),
          actor: 'system',
          actorRole: 'system',
          action: 'spare_part.reminder_sent',
          data: { date: input.date, workingDaysLeft: input.workingDaysLeft },
          idempotencyKey: `${loan.loan_number}/reminder/${input.date}`,
        });
        await queueEmail(`reminder/${input.date}`, {
          template: 'spare_part_return_reminder',
          params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, dueDate: input.dueDate, workingDaysLeft: input.workingDaysLeft },
        });
      });
    },

    /**
     * The due day ended without the part: bill it at list price in the next cycle, downgrade the
     * customer, and tell the customer and every manager.
     */
    async markSparePartOverdue(input: { caseId: string; at: string }): Promise<{ amountCents: number; billingCycle: string; managersNotified: number }> {
      const at = new Date(input.at);
      return loanStep(input.caseId, async (trx, loan, queueEmail) => {
        const details = await trx
          .selectFrom('devices as d')
          .innerJoin('products as p', 'p.id', 'd.product_id')
          .innerJoin('customers as c', 'c.id', 'd.customer_id')
          .select(['d.serial', 'p.code', 'p.name', 'p.list_price_cents', 'c.billing_day'])
          .where('d.id', '=', loan.failed_device_id)
          .executeTakeFirstOrThrow();
        const billingCycle = nextBillingCycle(at, details.billing_day);
        await trx
          .insertInto('invoice_lines')
          .values({
            customer_id: loan.customer_id,
            case_id: loan.case_id,
            billing_cycle: billingCycle,
            description: `Spare-part loan ${loan.loan_number}: failed part ${details.serial} (${details.code} ${details.name}) not returned, billed at list price`,
            amount_cents: details.list_price_cents,
            source_ref: `spare-part/${loan.loan_number}/overdue`,
            issued_at: null,
          })
          .onConflict((oc) => oc.column('source_ref').doNothing())
          .execute();
        await setStatus(trx, input.caseId, 'overdue', at, { overdue_at: at });
        await trx
          .updateTable('customers')
          .set({ service_downgrade: 'return_for_repair', downgraded_at: at })
          .where('id', '=', loan.customer_id)
          .where('service_downgrade', '=', 'none')
          .execute();
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: input.at,
          actor: 'system',
          actorRole: 'system',
          action: 'spare_part.overdue',
          comment: `billed ${details.list_price_cents} fen in cycle ${billingCycle}; customer downgraded to return-for-repair`,
          data: { amountCents: details.list_price_cents, billingCycle },
          idempotencyKey: `${loan.loan_number}/overdue`,
        });
        const amountCents = details.list_price_cents;
        await queueEmail('overdue', {
          template: 'spare_part_overdue_customer',
          params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, amountCents, billingCycle },
        });
        const managers = await trx.selectFrom('users').select(['id', 'email']).where('role', '=', 'manager').where('disabled_at', 'is', null).execute();
        for (const manager of managers) {
          await queueEmail(
            `overdue/manager/${manager.id}`,
            { template: 'spare_part_overdue_manager', params: { loanNumber: loan.loan_number, customerName: loan.customer_name, failedSerial: loan.failed_serial, amountCents } },
            { email: manager.email, locale: 'zh-CN' },
          );
        }
        return { amountCents, billingCycle, managersNotified: managers.length };
      });
    },

    /**
     * The failed part arrived. On time: the loan closes. Late (overdue): the loan is written off, an
     * invoice line not yet issued is cancelled by a credit line, and the downgrade lifts when no other
     * overdue loan is left. Either way the part goes into repair (an RMA record).
     */
    async recordSparePartReturn(input: { caseId: string; receipt: ReturnInput }): Promise<{ status: 'returned' | 'written_off'; credited: boolean; downgradeLifted: boolean }> {
      const { receipt } = input;
      const arrivedAt = new Date(receipt.receivedAt);
      return loanStep(input.caseId, async (trx, loan, queueEmail) => {
        const late = loan.status === 'overdue' || loan.status === 'written_off';
        const changes = { returned_at: arrivedAt, return_discrepancy: receipt.discrepancy, fault_tag_present: receipt.faultTagPresent };
        let credited = false;
        let downgradeLifted = false;
        if (late) {
          await setStatus(trx, input.caseId, 'written_off', new Date(receipt.at), { ...changes, written_off_at: new Date(receipt.at), write_off_reason: 'late_return' });
          const charge = await trx.selectFrom('invoice_lines').selectAll().where('source_ref', '=', `spare-part/${loan.loan_number}/overdue`).executeTakeFirst();
          if (charge && charge.issued_at === null) {
            const credit = await trx
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
              .onConflict((oc) => oc.column('source_ref').doNothing())
              .returning('id')
              .executeTakeFirst();
            credited = credit !== undefined;
          }
          downgradeLifted = await liftDowngradeIfClear(trx, loan.customer_id);
        } else {
          await setStatus(trx, input.caseId, 'returned', new Date(receipt.at), changes);
        }
        await openRmaRepair(trx, loan, arrivedAt);
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: receipt.at,
          actor: receipt.actor,
          actorRole: receipt.role,
          action: late ? 'spare_part.returned_late' : 'spare_part.returned',
          comment: receipt.discrepancy,
          data: { returnedSerial: receipt.returnedSerial, faultTagPresent: receipt.faultTagPresent, credited, downgradeLifted },
          idempotencyKey: `${loan.loan_number}/returned`,
        });
        await queueEmail('closed', { template: 'spare_part_closed', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, writtenOff: late } });
        return { status: late ? 'written_off' : 'returned', credited, downgradeLifted };
      });
    },

    async recordSparePartPayment(input: { caseId: string; payment: PaymentInput }): Promise<{ downgradeLifted: boolean }> {
      const { payment } = input;
      return loanStep(input.caseId, async (trx, loan, queueEmail) => {
        await setStatus(trx, input.caseId, 'written_off', new Date(payment.at), {
          written_off_at: new Date(payment.at),
          write_off_reason: 'payment',
          payment_reference: payment.reference,
        });
        const downgradeLifted = await liftDowngradeIfClear(trx, loan.customer_id);
        await appendAuditEvent(trx, {
          caseId: input.caseId,
          occurredAt: payment.at,
          actor: payment.actor,
          actorRole: payment.role,
          action: 'spare_part.paid',
          comment: `payment ${payment.reference}`,
          data: { reference: payment.reference, downgradeLifted },
          idempotencyKey: `${loan.loan_number}/paid`,
        });
        await queueEmail('closed', { template: 'spare_part_closed', params: { loanNumber: loan.loan_number, failedSerial: loan.failed_serial, writtenOff: true } });
        return { downgradeLifted };
      });
    },
  };
}
