import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { FAULT_SEVERITIES, faultRepairWorkflowId, type FaultRepairInput } from '../../workflows/fault-repair/definitions';
import { shanghaiDate } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import { ApiError } from '../errors';
import { checkCaseParties } from '../shared/case-parties';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
import { isoInstantField, requiredText } from '../shared/schemas';
import { loadFaultRepair, type FaultRepairDto } from './read-model';

export interface FaultRepairDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  clock: Clock;
}

export const registrationSchema = z.object({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: 'The customer contact who reported it: gets the emails and signs the plan and the service report' }),
  deviceSerial: requiredText(64).meta({ description: "Must be in the customer's installed base" }),
  siteId: z.uuid().nullable().default(null).meta({ description: "The site; its distance gives the on-site band (none: in the service city)" }),
  symptoms: requiredText(4000),
  actionsTaken: requiredText(4000),
  suspectedCause: requiredText(4000),
  severity: z.enum(FAULT_SEVERITIES),
  reportedAt: isoInstantField().optional().meta({ description: 'When the customer reported the fault (the SLA clocks start there); now when absent' }),
});

/** How a fault-repair case starts its workflow: from registration and from the recovery at worker start-up. */
export const faultRepairProcess: CaseProcess<FaultRepairInput> = {
  kind: 'fault_repair',
  workflowType: 'faultRepairWorkflow',
  startStatuses: ['diagnosis'],
  async loadInput(db, caseRow) {
    const row = await db.selectFrom('fault_repairs').select('case_number').where('case_id', '=', caseRow.id).executeTakeFirst();
    return row && { caseId: caseRow.id, caseNumber: row.case_number };
  },
};

async function checkRegistration(db: Db, body: z.output<typeof registrationSchema>) {
  const { deviceId } = await checkCaseParties(db, body);
  if (body.siteId) {
    const site = await db.selectFrom('sites').select('id').where('id', '=', body.siteId).where('customer_id', '=', body.customerId).executeTakeFirst();
    if (!site) throw ApiError.validation([{ in: 'body', field: 'siteId', message: 'no such site for this customer' }]);
  }
  return { deviceId };
}

/**
 * Registers the fault, then starts its workflow: the number comes from a sequence; the case, the
 * fault_repairs row and the audit entry commit together; only then does the workflow start, under
 * the case's deterministic id, idempotently (the worker starts one that never started).
 */
export async function registerFaultRepair(deps: FaultRepairDependencies & { logger?: Pick<Logger, 'warn'> }, body: z.output<typeof registrationSchema>, by: ActorStamp): Promise<FaultRepairDto> {
  const { deviceId } = await checkRegistration(deps.db, body);
  const reportedAt = body.reportedAt ?? by.at;
  if (Date.parse(reportedAt) > deps.clock.now().getTime() + 5 * 60_000) throw ApiError.validation([{ in: 'body', field: 'reportedAt', message: 'is in the future' }]);
  const registeredAt = new Date(by.at);
  const number = await nextCaseNumber(deps.db, 'FR', Number(shanghaiDate(registeredAt.getTime()).slice(0, 4)));
  const workflowId = faultRepairWorkflowId(number);
  const caseId = await deps.db.transaction().execute(async (trx) => {
    const caseId = await insertCase(trx, { kind: 'fault_repair', number, status: 'diagnosis', customerId: body.customerId, deviceId, workflowId, at: registeredAt });
    await trx
      .insertInto('fault_repairs')
      .values({
        case_id: caseId,
        case_number: number,
        customer_id: body.customerId,
        contact_id: body.contactId,
        device_id: deviceId,
        site_id: body.siteId,
        symptoms: body.symptoms,
        actions_taken: body.actionsTaken,
        suspected_cause: body.suspectedCause,
        severity: body.severity,
        status: 'diagnosis',
        reported_at: new Date(reportedAt),
        registered_by: by.actor,
        registered_by_role: by.role,
        created_at: registeredAt,
        updated_at: registeredAt,
      })
      .execute();
    await appendAuditEvent(trx, {
      caseId,
      occurredAt: by.at,
      actor: by.actor,
      actorRole: by.role,
      action: 'fault_repair.registered',
      comment: body.symptoms,
      data: { deviceSerial: body.deviceSerial, severity: body.severity, reportedAt, siteId: body.siteId },
      idempotencyKey: `${number}/registered`,
    });
    return caseId;
  });
  await startRegisteredCase(deps, faultRepairProcess, { caseNumber: number, workflowId: workflowId, input: { caseId, caseNumber: number } });
  return loadFaultRepair(deps.db, number);
}
