// The read model of a loan: its API shape and how it is read from the database.
import { z } from 'zod';
import type { SelectQueryBuilder } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { PREPARED, type Db } from '../../db';
import type { AuditEvent, Database, InvoiceLine } from '../../db/schema';
import { SPARE_PART_STATUSES } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';

export const loanSchema = z
  .object({
    loanNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(SPARE_PART_STATUSES),
    customerId: z.uuid(),
    customerName: z.string(),
    contactId: z.uuid(),
    failedSerial: z.string(),
    faultDescription: z.string(),
    deliveryAddress: z.string(),
    relatedCaseNumber: z.string().nullable(),
    applied: z.object({ by: z.string(), role: z.string(), at: z.string() }),
    decision: z.object({ by: z.string(), at: z.string(), comment: z.string().nullable() }).nullable(),
    shipment: z
      .object({ replacementSerial: z.string(), carrier: z.string(), trackingNumber: z.string(), shippedAt: z.string(), replacementWarrantyEnd: z.string() })
      .nullable(),
    receipt: z.object({ receivedAt: z.string(), confirmedBy: z.string(), discrepancy: z.string().nullable() }).nullable(),
    returnDeadline: z
      .object({
        dueDate: z.string(),
        dueAt: z.string(),
        provisional: z.boolean(),
        missingYears: z.array(z.number()),
        reminderDates: z.array(z.string()).meta({ description: 'Days a reminder goes out, at 09:00 China time' }),
      })
      .nullable(),
    remindersSent: z.array(z.string()),
    remindersSkipped: z.array(z.string()).meta({ description: 'Days whose reminder was no longer true when it came due (the system was away), so it was not sent' }),
    returned: z.object({ at: z.string(), faultTagPresent: z.boolean(), discrepancy: z.string().nullable() }).nullable(),
    overdueAt: z.string().nullable(),
    writtenOff: z.object({ at: z.string(), reason: z.enum(['late_return', 'payment']), paymentReference: z.string().nullable() }).nullable(),
    invoiceLines: z.array(z.object({ billingCycle: z.string(), amountCents: z.number(), description: z.string(), sourceRef: z.string() })),
    timeline: z.array(
      z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() }),
    ),
  })
  .meta({ id: 'SparePartLoan' });
export type LoanDto = z.input<typeof loanSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** The loan's row joined with its case, customer, failed device and related case: one select for one loan or a page. */
function loanRows(db: Db) {
  return db
    .selectFrom('spare_part_loans as l')
    .innerJoin('cases as k', 'k.id', 'l.case_id')
    .innerJoin('customers as c', 'c.id', 'l.customer_id')
    .innerJoin('devices as d', 'd.id', 'l.failed_device_id')
    .leftJoin('cases as r', 'r.id', 'l.related_case_id')
    .selectAll('l')
    .select(['k.workflow_id', 'c.name as customer_name', 'd.serial as failed_serial', 'r.number as related_case_number'])
    .modifyFront(PREPARED);
}
type LoanListTables = Database & { l: Database['spare_part_loans'] };
/** A row of `loanRows`: the loan with its case's workflow id, customer name, failed serial and related case number. */
export type LoanRow = Awaited<ReturnType<ReturnType<typeof loanRows>['executeTakeFirstOrThrow']>>;

/** A loan's audit entry and invoice line as its read model shows them (timestamps as ISO text when read as JSON). */
type LoanEvent = Pick<AuditEvent, 'actor' | 'actor_role' | 'action' | 'comment' | 'data'> & { occurred_at: Date | string };
type LoanInvoiceLine = Pick<InvoiceLine, 'billing_cycle' | 'amount_cents' | 'description' | 'source_ref'>;

/**
 * One loan; `withDetails` adds its timeline and invoice lines, read in the same statement as the loan
 * (JSON arrays of correlated subqueries), so that a detail costs one round trip to PostgreSQL.
 */
export async function loadLoan(db: Db, loanNumber: string, withDetails = true): Promise<LoanDto> {
  if (!withDetails) {
    const row = await loanRows(db).where('l.loan_number', '=', loanNumber).executeTakeFirst();
    if (!row) throw ApiError.notFound('spare-part loan', loanNumber);
    return loanDto(row, [], []);
  }
  const row = await loanRows(db)
    .select((eb) => [
      jsonArrayFrom(
        eb.selectFrom('audit_events as e').select(['e.occurred_at', 'e.actor', 'e.actor_role', 'e.action', 'e.comment', 'e.data']).whereRef('e.case_id', '=', 'l.case_id').orderBy('e.id'),
      ).as('events'),
      jsonArrayFrom(
        eb.selectFrom('invoice_lines as i').select(['i.billing_cycle', 'i.amount_cents', 'i.description', 'i.source_ref']).whereRef('i.case_id', '=', 'l.case_id').orderBy('i.created_at'),
      ).as('lines'),
    ])
    .where('l.loan_number', '=', loanNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('spare-part loan', loanNumber);
  return loanDto(row, row.events, row.lines);
}

export interface LoanListFilter {
  customerId?: string;
  statuses?: readonly string[];
  /** Loans waiting for their part whose first reminder day is on or before this date. */
  firstReminderOnOrBefore?: string;
}

/**
 * A page of loans, newest number first, without their timelines, reminders and invoice lines (the
 * detail has those): one statement that picks the page's loan numbers through the index and joins only
 * those, with the count of every match as a scalar subquery over the loans alone (a window count or a
 * join before the LIMIT would join every match), and a count of its own only for a page past the end.
 * Never a query per loan.
 */
export async function listLoans(db: Db, filter: LoanListFilter, page: { limit: number; offset: number }): Promise<{ items: LoanDto[]; total: number }> {
  const filtered = <Q extends SelectQueryBuilder<LoanListTables, 'l', object>>(query: Q): Q =>
    query
      .$if(filter.customerId !== undefined, (q) => q.where('l.customer_id', '=', filter.customerId!))
      .$if(filter.statuses !== undefined, (q) => q.where('l.status', 'in', filter.statuses!))
      .$if(filter.firstReminderOnOrBefore !== undefined, (q) => q.where('l.first_reminder_date', '<=', filter.firstReminderOnOrBefore!)) as Q;
  const count = () => filtered(db.selectFrom('spare_part_loans as l')).select((eb) => eb.fn.countAll<string>().as('total'));
  // The page's loan numbers first (through the index, LIMIT inside), then only those 50 joined.
  const pageNumbers = filtered(db.selectFrom('spare_part_loans as l')).select('l.loan_number').orderBy('l.loan_number', 'desc').limit(page.limit).offset(page.offset);
  const rows = await loanRows(db)
    .select(() => count().as('total'))
    .where('l.loan_number', 'in', pageNumbers)
    .orderBy('l.loan_number', 'desc')
    .execute();
  const total = rows.length > 0 ? Number(rows[0]!.total) : Number((await count().executeTakeFirstOrThrow()).total);
  return { items: rows.map((row) => loanDto(row, [], [])), total };
}

/** The API shape of a loan from its row, audit events and invoice lines (bench:api's bare peer builds its answers with it too). */
export function loanDto(row: LoanRow, events: readonly LoanEvent[], lines: readonly LoanInvoiceLine[]): LoanDto {
  return {
    loanNumber: row.loan_number,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    status: row.status as LoanDto['status'],
    customerId: row.customer_id,
    customerName: row.customer_name,
    contactId: row.contact_id,
    failedSerial: row.failed_serial,
    faultDescription: row.fault_description,
    deliveryAddress: row.delivery_address,
    relatedCaseNumber: row.related_case_number,
    applied: { by: row.applied_by, role: row.applied_by_role, at: iso(row.applied_at)! },
    decision: row.decided_at ? { by: row.decided_by ?? '', at: iso(row.decided_at)!, comment: row.decision_comment } : null,
    shipment:
      row.shipped_at && row.replacement_serial
        ? {
            replacementSerial: row.replacement_serial,
            carrier: row.carrier ?? '',
            trackingNumber: row.tracking_number ?? '',
            shippedAt: iso(row.shipped_at)!,
            replacementWarrantyEnd: row.replacement_warranty_end ?? '',
          }
        : null,
    receipt: row.received_at ? { receivedAt: iso(row.received_at)!, confirmedBy: row.receipt_confirmed_by ?? '', discrepancy: row.receipt_discrepancy } : null,
    returnDeadline:
      row.return_due_date && row.return_due_at
        ? {
            dueDate: row.return_due_date,
            dueAt: iso(row.return_due_at)!,
            provisional: row.return_deadline_provisional ?? false,
            missingYears: row.return_deadline_missing_years ?? [],
            reminderDates: row.reminder_dates ?? [],
          }
        : null,
    remindersSent: events
      .filter((event) => event.action === 'spare_part.reminder_sent')
      .map((event) => (event.data as { date: string }).date),
    remindersSkipped: events
      .filter((event) => event.action === 'spare_part.reminder_skipped')
      .map((event) => (event.data as { date: string }).date),
    returned: row.returned_at ? { at: iso(row.returned_at)!, faultTagPresent: row.fault_tag_present ?? false, discrepancy: row.return_discrepancy } : null,
    overdueAt: iso(row.overdue_at),
    writtenOff: row.written_off_at && row.write_off_reason ? { at: iso(row.written_off_at)!, reason: row.write_off_reason, paymentReference: row.payment_reference } : null,
    invoiceLines: lines.map((line) => ({ billingCycle: line.billing_cycle, amountCents: line.amount_cents, description: line.description, sourceRef: line.source_ref })),
    timeline: events.map((event) => ({ at: iso(event.occurred_at)!, actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}

