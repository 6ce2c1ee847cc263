import type { DbExecutor } from '../index';
import { rmaRepairStartStatus, rmaRepairWorkflowId, type RmaRepairOrigin } from '../../workflows/rma-repair/definitions';
import { appendAuditEvent } from '../../activities/shared/audit';
import { insertCase } from './cases';

export interface NewRmaRepairCase {
  origin: 'desk' | 'doa_conversion' | 'spare_part_return';
  customerId: string;
  contactId: string | null;
  originCaseId: string | null;
  parts: { deviceId: string; faultDescription: string }[];
  openedBy: string;
  openedByRole: string;
  openedAt: Date;
}

/** What makes an RMA unique: one per desk opening (its number), one per converted DOA claim, one per returned loan part. */
async function sourceRefOf(trx: DbExecutor, caseNumber: string, input: NewRmaRepairCase): Promise<string> {
  if (input.origin === 'desk') return caseNumber;
  if (!input.originCaseId) throw new Error(`an RMA from ${input.origin} needs the case it comes from`);
  const origin = await trx.selectFrom('cases').select('number').where('id', '=', input.originCaseId).executeTakeFirst();
  if (!origin) throw new Error(`no case ${input.originCaseId} to open an RMA from`);
  // The spare-part return kept this form from before the RMA process (rows written then have it).
  return input.origin === 'spare_part_return' ? `${origin.number}/returned-part` : `${origin.number}/rma-conversion`;
}

/**
 * Inserts the case (status = the start status), the RMA and its part lines, in the caller's transaction.
 *
 * Takes a number from `nextCaseNumber(db, 'RMA', year)` drawn outside the transaction. Retry-safe:
 * an RMA opened from a DOA claim or a spare-part return exists once per origin case; when it already
 * exists (a retried step), nothing is written and its case is returned (the number drawn for the
 * retry stays unused, a gap). The workflow (`rmaRepairWorkflow`, id `rmaRepairWorkflowId(number)`) is
 * the caller's to start after the commit. The link to the origin case is `rma_repairs.origin_case_id`:
 * GET /rma-repairs/:number shows the origin, and the origin's read model finds its RMA by it.
 */
export async function insertRmaRepairCase(trx: DbExecutor, caseNumber: string, input: NewRmaRepairCase): Promise<{ caseId: string; caseNumber: string; workflowId: string }> {
  if (input.parts.length === 0) throw new Error('an RMA needs at least one part');
  if (input.origin === 'spare_part_return' && input.contactId !== null) throw new Error('an RMA for a spare-part return has no customer leg: no contact');
  if (input.origin !== 'spare_part_return' && input.contactId === null) throw new Error(`an RMA from ${input.origin} needs the contact it is emailed to`);
  const sourceRef = await sourceRefOf(trx, caseNumber, input);
  const existing = await trx.selectFrom('rma_repairs').select(['case_id', 'case_number']).where('source_ref', '=', sourceRef).executeTakeFirst();
  if (existing?.case_id && existing.case_number) {
    return { caseId: existing.case_id, caseNumber: existing.case_number, workflowId: rmaRepairWorkflowId(existing.case_number) };
  }

  const origin: RmaRepairOrigin = input.origin;
  const status = rmaRepairStartStatus(origin);
  const internal = origin === 'spare_part_return';
  const workflowId = rmaRepairWorkflowId(caseNumber);
  const caseId = await insertCase(trx, {
    kind: 'rma_repair',
    number: caseNumber,
    status,
    customerId: input.customerId,
    deviceId: input.parts.length === 1 ? input.parts[0]!.deviceId : null,
    workflowId,
    at: input.openedAt,
  });
  const { id: rmaId } = await trx
    .insertInto('rma_repairs')
    .values({
      source_ref: sourceRef,
      customer_id: input.customerId,
      device_id: null,
      origin_case_id: input.originCaseId,
      fault_description: null,
      status,
      // A part returned to a loan is already here: it was received when the loan's return was recorded.
      received_at: internal ? input.openedAt : null,
      case_id: caseId,
      case_number: caseNumber,
      origin,
      contact_id: input.contactId,
      opened_by: input.openedBy,
      opened_by_role: input.openedByRole,
      opened_at: input.openedAt,
      created_at: input.openedAt,
      updated_at: input.openedAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const devices = await trx
    .selectFrom('devices')
    .select(['id', 'serial'])
    .where(
      'id',
      'in',
      input.parts.map((part) => part.deviceId),
    )
    .execute();
  const serialOf = new Map(devices.map((device) => [device.id, device.serial]));
  await trx
    .insertInto('rma_repair_parts')
    .values(
      input.parts.map((part, index) => {
        const serial = serialOf.get(part.deviceId);
        if (serial === undefined) throw new Error(`no device ${part.deviceId} for part ${index + 1} of RMA ${caseNumber}`);
        return {
          rma_id: rmaId,
          case_id: caseId,
          line: index + 1,
          device_id: part.deviceId,
          fault_description: part.faultDescription,
          status: internal ? 'received' : 'awaiting_receipt',
          received_serial: internal ? serial : null,
          received_at: internal ? input.openedAt : null,
          received_by: internal ? input.openedBy : null,
          receipt_note: null,
          discrepancy_resolution: null,
          discrepancy_comment: null,
          discrepancy_resolved_by: null,
          discrepancy_resolved_at: null,
          outcome: null,
          outcome_note: null,
          outcome_by: null,
          outcome_at: null,
          replacement_serial: null,
          replacement_device_id: null,
          warranty_end: null,
          warranty_basis: null,
          created_at: input.openedAt,
          updated_at: input.openedAt,
        };
      }),
    )
    .execute();
  await appendAuditEvent(trx, {
    caseId,
    occurredAt: input.openedAt.toISOString(),
    actor: input.openedBy,
    actorRole: input.openedByRole,
    action: 'rma_repair.opened',
    comment: input.parts.map((part, index) => `${index + 1}. ${serialOf.get(part.deviceId)}: ${part.faultDescription}`).join('\n'),
    data: { origin, originCaseId: input.originCaseId, parts: input.parts.map((part, index) => ({ line: index + 1, serial: serialOf.get(part.deviceId), deviceId: part.deviceId })) },
    idempotencyKey: `${caseNumber}/opened`,
  });
  return { caseId, caseNumber, workflowId };
}
