import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { nextCaseNumber } from '../../db/repositories/cases';
import { insertRmaRepairCase } from '../../db/repositories/rma-repairs';
import { RMA_REPAIR_OPEN_STATUSES, rmaRepairStartStatus, type RmaRepairInput } from '../../workflows/rma-repair/definitions';
import { shanghaiDate } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import { ApiError, type FieldProblem } from '../errors';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
import { requiredText } from '../shared/schemas';
import { loadRmaRepair, type RmaRepairDto } from './read-model';

export interface RmaRepairDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  links: SignedLinks;
  clock: Clock;
}

/** The most parts one RMA carries (a parcel's worth); more go in another RMA. */
export const MAX_RMA_PARTS = 50;

export const openingSchema = z.object({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: 'The customer contact who gets the return address, the RMA number and the receipt link' }),
  parts: z
    .array(
      z.object({
        deviceSerial: requiredText(64).meta({ description: "Must be in the customer's installed base" }),
        faultDescription: requiredText(4000),
      }),
    )
    .min(1)
    .max(MAX_RMA_PARTS)
    .meta({ description: 'One repair record per part, each with its fault description' }),
});

/** How an RMA starts its workflow: from the desk, from a DOA conversion or a spare-part return, and from the recovery at worker start-up. */
export const rmaRepairProcess: CaseProcess<RmaRepairInput> = {
  kind: 'rma_repair',
  workflowType: 'rmaRepairWorkflow',
  startStatuses: [rmaRepairStartStatus('desk'), rmaRepairStartStatus('spare_part_return')],
  async loadInput(db, caseRow) {
    const row = await db.selectFrom('rma_repairs').select('case_number').where('case_id', '=', caseRow.id).executeTakeFirst();
    return row?.case_number ? { caseId: caseRow.id, caseNumber: row.case_number } : undefined;
  },
};

/** Each problem with the opening named by its field, all at once: customer, contact, and every part's device. */
async function checkOpening(db: Db, body: z.output<typeof openingSchema>): Promise<{ deviceIds: string[] }> {
  const customer = await db.selectFrom('customers').select('id').where('id', '=', body.customerId).executeTakeFirst();
  if (!customer) throw ApiError.validation([{ in: 'body', field: 'customerId', message: `no customer with id ${body.customerId}` }]);
  const problems: FieldProblem[] = [];
  const contact = await db.selectFrom('contacts').select('id').where('id', '=', body.contactId).where('customer_id', '=', customer.id).executeTakeFirst();
  if (!contact) problems.push({ in: 'body', field: 'contactId', message: 'no such contact for this customer' });
  const serials = body.parts.map((part) => part.deviceSerial);
  const devices = await db.selectFrom('devices').select(['id', 'serial', 'customer_id']).where('serial', 'in', serials).execute();
  const openRmaParts = await db
    .selectFrom('rma_repair_parts as p')
    .innerJoin('rma_repairs as r', 'r.id', 'p.rma_id')
    .innerJoin('devices as d', 'd.id', 'p.device_id')
    .select(['d.serial', 'r.case_number'])
    .where('d.serial', 'in', serials)
    .where('r.status', 'in', RMA_REPAIR_OPEN_STATUSES)
    .where('r.origin', '!=', 'spare_part_return')
    .execute();
  const deviceIds: string[] = [];
  body.parts.forEach((part, index) => {
    const field = `parts.${index}.deviceSerial`;
    const device = devices.find((candidate) => candidate.serial === part.deviceSerial);
    if (!device || device.customer_id !== customer.id) {
      problems.push({ in: 'body', field, message: `no device ${part.deviceSerial} in this customer's installed base` });
      return;
    }
    if (serials.indexOf(part.deviceSerial) !== index) {
      problems.push({ in: 'body', field, message: `${part.deviceSerial} is already part ${serials.indexOf(part.deviceSerial) + 1} of this RMA` });
      return;
    }
    const open = openRmaParts.find((candidate) => candidate.serial === part.deviceSerial);
    if (open) {
      problems.push({ in: 'body', field, message: `${part.deviceSerial} is already in open RMA ${open.case_number}` });
      return;
    }
    deviceIds.push(device.id);
  });
  if (problems.length > 0) throw ApiError.validation(problems);
  return { deviceIds };
}

/**
 * The desk opens an RMA: the number comes from a sequence; the case, the RMA, its part lines and the
 * audit entry commit together; only then does the workflow start (idempotently; the worker starts
 * one that never started), and it emails the customer the return address and the RMA number.
 */
export async function openRmaRepairAtDesk(deps: RmaRepairDependencies & { logger?: Pick<Logger, 'warn'> }, body: z.output<typeof openingSchema>, by: ActorStamp): Promise<RmaRepairDto> {
  const { deviceIds } = await checkOpening(deps.db, body);
  const openedAt = new Date(by.at);
  const number = await nextCaseNumber(deps.db, 'RMA', Number(shanghaiDate(openedAt.getTime()).slice(0, 4)));
  const created = await deps.db.transaction().execute((trx) =>
    insertRmaRepairCase(trx, number, {
      origin: 'desk',
      customerId: body.customerId,
      contactId: body.contactId,
      originCaseId: null,
      parts: body.parts.map((part, index) => ({ deviceId: deviceIds[index]!, faultDescription: part.faultDescription })),
      openedBy: by.actor,
      openedByRole: by.role,
      openedAt,
    }),
  );
  await startRegisteredCase(deps, rmaRepairProcess, { caseNumber: number, workflowId: created.workflowId, input: { caseId: created.caseId, caseNumber: created.caseNumber } });
  return loadRmaRepair(deps.db, created.caseNumber);
}
