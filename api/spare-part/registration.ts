import type { Logger } from 'pino';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import { shanghaiDate } from '../../workflows/rules/time';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { type ActorStamp } from '../../workflows/shared/definitions';
import { SPARE_PART_OPEN_STATUSES, sparePartWorkflowId, type SparePartLoanInput } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
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

/** How a spare-part case starts its workflow: from registration and from the recovery at worker start-up. */
export const sparePartProcess: CaseProcess<SparePartLoanInput> = {
  kind: 'spare_part',
  workflowType: 'sparePartLoanWorkflow',
  startStatuses: ['pending_approval'],
  async loadInput(db, caseRow) {
    const loan = await db
      .selectFrom('spare_part_loans as l')
      .innerJoin('devices as d', 'd.id', 'l.failed_device_id')
      .select(['l.loan_number', 'd.serial'])
      .where('l.case_id', '=', caseRow.id)
      .executeTakeFirst();
    return loan && { caseId: caseRow.id, loanNumber: loan.loan_number, failedSerial: loan.serial };
  },
};

/**
 * Registers the application, then starts its workflow. The number comes from a sequence (never
 * handed out twice, see nextCaseNumber); the case, loan and audit rows commit together; only then
 * does the workflow start, under the loan's deterministic id, idempotently. So a crash or a failed
 * start between the commit and the start leaves a committed case whose workflow does not exist yet:
 * it blocks no other application (the next one has a new number), and the worker starts it at its
 * start-up and every few minutes (startMissingProcesses in api/shared/process-starts.ts).
 *
 * When Temporal does not accept the start, the answer is still 201 with the loan, status
 * pending_approval: the application is recorded under its number, which is what the applicant needs
 * to know (a 503 would invite a retry, refused as loan_already_open). Steps on it answer 409
 * process_not_running until the worker has started its process.
 */
export async function applyForSparePart(
  deps: SparePartDependencies & { logger?: Pick<Logger, 'warn'> },
  body: z.output<typeof applicationSchema>,
  applicant: ActorStamp,
): Promise<LoanDto> {
  const { deviceId, relatedCaseId } = await checkEligibility(deps.db, body);
  const appliedAt = new Date(applicant.at);
  // Outside the transaction: a failed registration leaves a gap in the numbering, never a number to reuse.
  const number = await nextCaseNumber(deps.db, 'SP', Number(shanghaiDate(appliedAt.getTime()).slice(0, 4)));
  const workflowId = sparePartWorkflowId(number);
  const caseId = await deps.db.transaction().execute(async (trx) => {
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
    return caseId;
  });
  const input: SparePartLoanInput = { caseId, loanNumber: number, failedSerial: body.failedSerial };
  await startRegisteredCase(deps, sparePartProcess, { caseNumber: number, workflowId: workflowId, input: input });
  return loadLoan(deps.db, number);
}
