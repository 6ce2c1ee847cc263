import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import { shanghaiDate } from '../../workflows/rules/time';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { type ActorStamp } from '../../workflows/shared/definitions';
import { SPARE_PART_OPEN_STATUSES, sparePartWorkflowId } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';
import { requiredText } from '../shared/schemas';
import { loadLoan, type LoanDto } from './read-model';
import type { SparePartDependencies } from './steps';

export const customerApplicationSchema = z.object({
  failedSerial: requiredText(64),
  faultDescription: requiredText(2000),
  deliveryAddress: requiredText(500),
  relatedCaseNumber: requiredText(32).nullable().default(null).meta({ description: 'The fault-repair or incident case this belongs to' }),
});
export const applicationSchema = customerApplicationSchema.extend({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: 'The customer contact who receives the emails and signs for the part' }),
});

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

