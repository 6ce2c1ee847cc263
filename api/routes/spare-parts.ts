import { createHash } from 'node:crypto';
import { executeProcessUpdate } from '../shared/process-updates';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { sql } from 'kysely';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/audit';
import { enqueueEmail } from '../../activities/email';
import type { Clock } from '../../activities/clock';
import type { SignedLinks } from '../../activities/signed-links';
import { CONFIRM_RECEIPT_ACTION } from '../../activities/spare-parts';
import { shanghaiDate } from '../../workflows/rules/time';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import type { UserRole } from '../../db/schema';
import {
  SPARE_PART_FINAL_STATUSES,
  SPARE_PART_OPEN_STATUSES,
  SPARE_PART_STATUSES,
  approveSparePartUpdate,
  confirmReceiptUpdate,
  recordPaymentUpdate,
  recordReturnUpdate,
  recordShipmentUpdate,
  rejectSparePartUpdate,
  sparePartWorkflowId,
  type ActorStamp,
  type SparePartLoanState,
} from '../../workflows/definitions';
import type { Actor } from '../auth';
import { ApiError } from '../errors';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { defineLinkAction, type LinkAction } from './links';

export interface SparePartDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  links: SignedLinks;
  clock: Clock;
}

export const APPLY_ACTION = 'spare-part.apply';
const APPLICATION_LINK_TTL_HOURS = 24 * 14;
/** Application links are issued to a contact, before any case exists: their scope names the contact. */
const contactScope = (contactId: string) => `contact:${contactId}`;

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const MANAGER: readonly UserRole[] = ['manager'];
const BILLING: readonly UserRole[] = ['billing', 'manager'];
const ANY_USER: readonly UserRole[] = [];

const instant = isoInstantField();
const loanParams = z.object({ loanNumber: z.string().regex(/^SP-\d{4}-\d{6}$/, 'must look like SP-2026-000042') });

const customerApplicationSchema = z.object({
  failedSerial: requiredText(64),
  faultDescription: requiredText(2000),
  deliveryAddress: requiredText(500),
  relatedCaseNumber: requiredText(32).nullable().default(null).meta({ description: 'The fault-repair or incident case this belongs to' }),
});
const applicationSchema = customerApplicationSchema.extend({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: 'The customer contact who receives the emails and signs for the part' }),
});

const LIST_FILTERS = ['open', 'due_soon', 'overdue', 'closed'] as const;

const loanSchema = z
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
type LoanDto = z.input<typeof loanSchema>;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

async function loadLoan(db: Db, loanNumber: string, withDetails = true): Promise<LoanDto> {
  const row = await db
    .selectFrom('spare_part_loans as l')
    .innerJoin('cases as k', 'k.id', 'l.case_id')
    .innerJoin('customers as c', 'c.id', 'l.customer_id')
    .innerJoin('devices as d', 'd.id', 'l.failed_device_id')
    .leftJoin('cases as r', 'r.id', 'l.related_case_id')
    .selectAll('l')
    .select(['k.workflow_id', 'c.name as customer_name', 'd.serial as failed_serial', 'r.number as related_case_number'])
    .where('l.loan_number', '=', loanNumber)
    .executeTakeFirst();
  if (!row) throw ApiError.notFound('spare-part loan', loanNumber);
  const [events, lines] = withDetails
    ? await Promise.all([
        db.selectFrom('audit_events').selectAll().where('case_id', '=', row.case_id).orderBy('id').execute(),
        db.selectFrom('invoice_lines').selectAll().where('case_id', '=', row.case_id).orderBy('created_at').execute(),
      ])
    : [[], []];
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

function stamp(actor: Actor, clock: Clock): ActorStamp {
  return { actor: actor.name, role: actor.role, at: clock.now().toISOString() };
}

async function update<Arg>(deps: SparePartDependencies, loanNumber: string, definition: UpdateDefinition<SparePartLoanState, [Arg]>, arg: Arg): Promise<LoanDto> {
  await loadLoan(deps.db, loanNumber, false);
  await executeProcessUpdate(deps.temporal, sparePartWorkflowId(loanNumber), definition, arg);
  return loadLoan(deps.db, loanNumber);
}

/** Checks the application against the contract and the installed base; refusals name the field or the overdue loan. */
async function checkEligibility(db: Db, body: z.output<typeof applicationSchema>) {
  const customer = await db.selectFrom('customers').selectAll().where('id', '=', body.customerId).executeTakeFirst();
  if (!customer) throw ApiError.validation([{ in: 'body', field: 'customerId', message: `no customer with id ${body.customerId}` }]);
  if (!customer.spare_part_first) {
    throw new ApiError(422, 'spare_part_first_not_in_contract', `${customer.name}'s contract does not include spare-part-first; use return-for-repair`, { customerId: customer.id });
  }
  if (customer.service_downgrade !== 'none') {
    const overdue = await db.selectFrom('spare_part_loans').select('loan_number').where('customer_id', '=', customer.id).where('status', '=', 'overdue').execute();
    const numbers = overdue.map((loan) => loan.loan_number);
    throw new ApiError(
      422,
      'customer_downgraded',
      `${customer.name} is downgraded to return-for-repair until overdue loan ${numbers.join(', ') || '(none recorded)'} is returned or paid`,
      { overdueLoans: numbers },
    );
  }
  const contact = await db.selectFrom('contacts').select('id').where('id', '=', body.contactId).where('customer_id', '=', customer.id).executeTakeFirst();
  if (!contact) throw ApiError.validation([{ in: 'body', field: 'contactId', message: 'no such contact for this customer' }]);
  const device = await db.selectFrom('devices').select(['id', 'customer_id']).where('serial', '=', body.failedSerial).executeTakeFirst();
  if (!device || device.customer_id !== customer.id) {
    throw ApiError.validation([{ in: 'body', field: 'failedSerial', message: `no device ${body.failedSerial} in this customer's installed base` }]);
  }
  const open = await db
    .selectFrom('spare_part_loans')
    .select('loan_number')
    .where('failed_device_id', '=', device.id)
    .where('status', 'in', SPARE_PART_OPEN_STATUSES)
    .executeTakeFirst();
  if (open) throw ApiError.conflict('loan_already_open', `device ${body.failedSerial} already has open loan ${open.loan_number}`, { loanNumber: open.loan_number });
  let relatedCaseId: string | null = null;
  if (body.relatedCaseNumber) {
    const related = await db.selectFrom('cases').select('id').where('number', '=', body.relatedCaseNumber).where('customer_id', '=', customer.id).executeTakeFirst();
    if (!related) throw ApiError.validation([{ in: 'body', field: 'relatedCaseNumber', message: 'no such case for this customer' }]);
    relatedCaseId = related.id;
  }
  return { customer, deviceId: device.id, relatedCaseId };
}

/**
 * Registers the case and loan rows and starts the workflow in one transaction: a failed start leaves
 * nothing behind, and a commit that fails after the start terminates the workflow again.
 */
export async function applyForSparePart(deps: SparePartDependencies, body: z.output<typeof applicationSchema>, applicant: ActorStamp): Promise<LoanDto> {
  const { deviceId, relatedCaseId } = await checkEligibility(deps.db, body);
  const appliedAt = new Date(applicant.at);
  let started: { terminate(reason: string): Promise<unknown> } | undefined;
  const register = deps.db.transaction().execute(async (trx) => {
    const number = await nextCaseNumber(trx, 'SP', Number(shanghaiDate(appliedAt.getTime()).slice(0, 4)));
    const workflowId = sparePartWorkflowId(number);
    const caseId = await insertCase(trx, { kind: 'spare_part', number, status: 'pending_approval', customerId: body.customerId, deviceId, workflowId, at: appliedAt });
    await trx
      .insertInto('spare_part_loans')
      .values({
        case_id: caseId,
        loan_number: number,
        customer_id: body.customerId,
        contact_id: body.contactId,
        failed_device_id: deviceId,
        related_case_id: relatedCaseId,
        fault_description: body.faultDescription,
        delivery_address: body.deliveryAddress,
        status: 'pending_approval',
        applied_by: applicant.actor,
        applied_by_role: applicant.role,
        applied_at: appliedAt,
      })
      .execute();
    await appendAuditEvent(trx, {
      caseId,
      occurredAt: applicant.at,
      actor: applicant.actor,
      actorRole: applicant.role,
      action: 'spare_part.applied',
      comment: body.faultDescription,
      data: { failedSerial: body.failedSerial, deliveryAddress: body.deliveryAddress },
      idempotencyKey: `${number}/applied`,
    });
    // One workflow per loan: the id is refused while the loan runs and after it closed; only a run
    // terminated below, because its rows never committed, leaves the number free for the next application.
    started = await deps.temporal.workflow.start('sparePartLoanWorkflow', {
      workflowId,
      taskQueue: deps.taskQueue,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      args: [{ caseId, loanNumber: number, failedSerial: body.failedSerial }],
    });
    return number;
  });
  const loanNumber = await register.catch(async (error: unknown) => {
    await started?.terminate('the application was not saved: its transaction failed after the workflow started');
    throw error;
  });
  return loadLoan(deps.db, loanNumber);
}

export function sparePartLinkActions(deps: SparePartDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: APPLY_ACTION,
      summary: 'Apply for a spare-part-first loan (failed device serial, fault, delivery address)',
      body: customerApplicationSchema,
      perform: async ({ claims, body }) => {
        const contactId = claims.caseId.slice(contactScope('').length);
        const contact = await deps.db.selectFrom('contacts').select(['id', 'name', 'customer_id']).where('id', '=', contactId).executeTakeFirst();
        if (!contact || claims.caseId !== contactScope(contact.id)) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'unknown contact' });
        const loan = await applyForSparePart(deps, { ...body, customerId: contact.customer_id, contactId: contact.id }, { actor: contact.name, role: 'customer', at: deps.clock.now().toISOString() });
        return { loanNumber: loan.loanNumber, status: loan.status };
      },
    }),
    defineLinkAction({
      action: CONFIRM_RECEIPT_ACTION,
      summary: 'Confirm that the replacement part arrived, noting any discrepancy',
      body: z.object({ discrepancy: optionalNote(2000) }),
      perform: async ({ claims, body }) => {
        const loan = await deps.db.selectFrom('spare_part_loans').select('loan_number').where('case_id', '=', claims.caseId).executeTakeFirst();
        if (!loan) throw ApiError.notFound('spare-part loan for case', claims.caseId);
        const at = deps.clock.now().toISOString();
        const result = await update(deps, loan.loan_number, confirmReceiptUpdate, { actor: 'customer contact', role: 'customer', at, receivedAt: at, discrepancy: body.discrepancy });
        return { loanNumber: result.loanNumber, status: result.status, returnDeadline: result.returnDeadline };
      },
    }),
  ];
}

export function registerSparePartRoutes(routes: ApiRoutes, deps: SparePartDependencies): void {
  const tag = 'Spare part first';
  const loanResponse = { schema: loanSchema };
  const transitionErrors = [404, 409, 422];

  routes
    .add({
      method: 'post', path: '/spare-parts', tag, summary: 'Apply for a spare-part-first loan on behalf of a customer', access: { roles: DESK },
      body: applicationSchema, response: { status: 201, schema: loanSchema }, errors: [409, 422],
      handler: async ({ body, actor }) => applyForSparePart(deps, body, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'post', path: '/spare-parts/application-links', tag, summary: 'Email a customer contact a single-use link to apply for a loan themselves (the email is queued and sent by the outbox relay)', access: { roles: DESK },
      body: z.object({ contactId: z.uuid() }),
      response: { status: 201, schema: z.object({ contactId: z.uuid(), email: z.string(), expiresAt: z.string() }) },
      handler: async ({ body }) => {
        const contact = await deps.db
          .selectFrom('contacts as c')
          .innerJoin('customers as k', 'k.id', 'c.customer_id')
          .select(['c.id', 'c.email', 'k.name as customer_name'])
          .where('c.id', '=', body.contactId)
          .executeTakeFirst();
        if (!contact) throw ApiError.validation([{ in: 'body', field: 'contactId', message: `no contact with id ${body.contactId}` }]);
        const link = deps.links.issue({ caseId: contactScope(contact.id), action: APPLY_ACTION, singleUse: true, ttlHours: APPLICATION_LINK_TTL_HOURS });
        // Queued, not sent: the outbox relay of the worker sends it, also when SMTP is down right now.
        await enqueueEmail(deps.db, {
          // A hash of the link, not a piece of it: outbox keys appear in logs.
          idempotencyKey: `spare-part/application-link/${createHash('sha256').update(link.token).digest('base64url')}`,
          to: { contactId: contact.id },
          template: 'spare_part_application_link',
          params: { customerName: contact.customer_name, applyUrl: link.url, expiresOn: link.expiresAt.toISOString().slice(0, 10) },
        });
        return { contactId: contact.id, email: contact.email, expiresAt: link.expiresAt.toISOString() };
      },
    })
    .add({
      method: 'get', path: '/spare-parts', tag, summary: 'List loans: open, due soon (first reminder reached), overdue or closed', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ status: z.enum(LIST_FILTERS).optional(), customerId: z.uuid().optional() }),
      response: { schema: pageOf(loanSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('spare_part_loans').select('loan_number');
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        if (query.status === 'open') select = select.where('status', 'in', ['pending_approval', 'approved', 'shipped', 'awaiting_return']);
        if (query.status === 'overdue') select = select.where('status', '=', 'overdue');
        if (query.status === 'closed') select = select.where('status', 'in', SPARE_PART_FINAL_STATUSES);
        if (query.status === 'due_soon') {
          select = select.where('status', '=', 'awaiting_return').where('first_reminder_date', '<=', sql<string>`(now() at time zone 'Asia/Shanghai')::date`);
        }
        const [numbers, count] = await Promise.all([
          select.orderBy('loan_number', 'desc').limit(query.limit).offset(query.offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        const items = await Promise.all(numbers.map((row) => loadLoan(deps.db, row.loan_number, false)));
        return { items, total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/spare-parts/:loanNumber', tag, summary: 'One loan with its status, deadline, reminders sent, invoice lines and timeline', access: { roles: ANY_USER },
      params: loanParams, response: loanResponse, errors: [404],
      handler: async ({ params }) => loadLoan(deps.db, params.loanNumber),
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/approve', tag, summary: 'Approve the loan (technical manager)', access: { roles: MANAGER },
      params: loanParams, body: z.object({ comment: optionalNote(2000) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.loanNumber, approveSparePartUpdate, { ...stamp(actor!, deps.clock), comment: body.comment }),
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/reject', tag, summary: 'Reject the loan with a reason (technical manager)', access: { roles: MANAGER },
      params: loanParams, body: z.object({ reason: requiredText(2000) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.loanNumber, rejectSparePartUpdate, { ...stamp(actor!, deps.clock), reason: body.reason }),
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/shipment', tag, summary: 'Record the replacement shipment; emails the customer a receipt link', access: { roles: DESK },
      params: loanParams,
      body: z.object({ replacementSerial: requiredText(64), carrier: requiredText(100), trackingNumber: requiredText(100), shippedAt: instant.optional() }),
      response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const by = stamp(actor!, deps.clock);
        return update(deps, params.loanNumber, recordShipmentUpdate, { ...by, replacementSerial: body.replacementSerial, carrier: body.carrier, trackingNumber: body.trackingNumber, shippedAt: body.shippedAt ?? by.at });
      },
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/receipt', tag, summary: "Record the carrier's delivery of the replacement (the customer may confirm by link instead)", access: { roles: DESK },
      params: loanParams, body: z.object({ receivedAt: instant, discrepancy: optionalNote(2000) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        if (Date.parse(body.receivedAt) > deps.clock.now().getTime() + 5 * 60_000) throw ApiError.validation([{ in: 'body', field: 'receivedAt', message: 'is in the future' }]);
        return update(deps, params.loanNumber, confirmReceiptUpdate, { ...stamp(actor!, deps.clock), receivedAt: body.receivedAt, discrepancy: body.discrepancy });
      },
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/return', tag, summary: 'Record the arrival of the failed part (serial must match, fault tag checked)', access: { roles: DESK },
      params: loanParams,
      body: z.object({ returnedSerial: requiredText(64), faultTagPresent: z.boolean(), discrepancy: optionalNote(2000), receivedAt: instant.optional() }),
      response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const by = stamp(actor!, deps.clock);
        return update(deps, params.loanNumber, recordReturnUpdate, { ...by, returnedSerial: body.returnedSerial, faultTagPresent: body.faultTagPresent, discrepancy: body.discrepancy, receivedAt: body.receivedAt ?? by.at });
      },
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/payment', tag, summary: 'Record payment of an overdue part; writes the loan off', access: { roles: BILLING },
      params: loanParams, body: z.object({ reference: requiredText(200) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.loanNumber, recordPaymentUpdate, { ...stamp(actor!, deps.clock), reference: body.reference }),
    });
}
