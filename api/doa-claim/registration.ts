import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { doaClaimWorkflowId, type DoaClaimInput } from '../../workflows/doa-claim/definitions';
import { shanghaiDate } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import { ApiError, type FieldProblem } from '../errors';
import { checkCaseParties } from '../shared/case-parties';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
import { isoDateField, isoInstantField, requiredText } from '../shared/schemas';
import { loadDoaClaim, type DoaClaimDto } from './read-model';

export interface DoaClaimDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  clock: Clock;
}

/** What the end user states; the desk registers it for them with the same fields. */
export const doaApplicationSchema = z.object({
  deviceSerial: requiredText(64).meta({ description: "Must be in the customer's installed base and sold by our company" }),
  arrivedOn: isoDateField().meta({ description: 'When the unit arrived (China date)' }),
  firstPowerOnAt: isoInstantField().meta({ description: 'When the unit was first powered on' }),
  failedAt: isoInstantField().meta({ description: 'When the fault appeared (the first power-on itself when it failed at once)' }),
  symptoms: requiredText(4000),
});

export const doaRegistrationSchema = doaApplicationSchema.extend({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: 'The end user contact: gets the emails and the links' }),
  appliedByEndUser: z.boolean().default(true).meta({ description: 'false when someone other than the end user (e.g. a reseller) applied: DOA is refused' }),
});
export type DoaRegistration = z.output<typeof doaRegistrationSchema>;

/** How a DOA claim starts its workflow: from registration and from the recovery at worker start-up. */
export const doaClaimProcess: CaseProcess<DoaClaimInput> = {
  kind: 'doa_claim',
  workflowType: 'doaClaimWorkflow',
  startStatuses: ['assessment'],
  async loadInput(db, caseRow) {
    const row = await db.selectFrom('doa_claims').select('case_number').where('case_id', '=', caseRow.id).executeTakeFirst();
    return row && { caseId: caseRow.id, caseNumber: row.case_number };
  },
};

const FIVE_MINUTES_MS = 5 * 60_000;

/** The checks of an application: the device in the customer's installed base, sold by us, and dates that can be true. */
async function checkRegistration(deps: DoaClaimDependencies, body: DoaRegistration) {
  const device = await checkCaseParties(deps.db, body);
  if (device.soldBy !== null) {
    throw new ApiError(422, 'sold_by_another_company', `device ${body.deviceSerial} was sold by ${device.soldBy}: whoever sold it is responsible, so the DOA claim goes to ${device.soldBy}`, [
      { in: 'body', field: 'deviceSerial', message: `was sold by ${device.soldBy}, not by us: claim DOA with ${device.soldBy}` },
    ]);
  }
  const nowMs = deps.clock.now().getTime() + FIVE_MINUTES_MS;
  const problems: FieldProblem[] = [];
  if (Date.parse(`${body.arrivedOn}T00:00:00+08:00`) > nowMs) problems.push({ in: 'body', field: 'arrivedOn', message: 'is in the future' });
  if (Date.parse(body.firstPowerOnAt) > nowMs) problems.push({ in: 'body', field: 'firstPowerOnAt', message: 'is in the future' });
  if (Date.parse(body.failedAt) > nowMs) problems.push({ in: 'body', field: 'failedAt', message: 'is in the future' });
  if (shanghaiDate(Date.parse(body.firstPowerOnAt)) < body.arrivedOn) problems.push({ in: 'body', field: 'firstPowerOnAt', message: `is before the unit arrived (${body.arrivedOn})` });
  if (problems.length > 0) throw ApiError.validation(problems);
  return { deviceId: device.deviceId };
}

/**
 * Registers the claim, then starts its workflow: the number comes from a sequence; the case, the
 * claim and the audit entry commit together; only then does the workflow start, idempotently.
 */
export async function registerDoaClaim(deps: DoaClaimDependencies & { logger?: Pick<Logger, 'warn'> }, body: DoaRegistration, by: ActorStamp): Promise<DoaClaimDto> {
  const { deviceId } = await checkRegistration(deps, body);
  const appliedAt = new Date(by.at);
  const number = await nextCaseNumber(deps.db, 'DOA', Number(shanghaiDate(appliedAt.getTime()).slice(0, 4)));
  const workflowId = doaClaimWorkflowId(number);
  const caseId = await deps.db.transaction().execute(async (trx) => {
    const caseId = await insertCase(trx, { kind: 'doa_claim', number, status: 'assessment', customerId: body.customerId, deviceId, workflowId, at: appliedAt });
    await trx
      .insertInto('doa_claims')
      .values({
        case_id: caseId,
        case_number: number,
        customer_id: body.customerId,
        contact_id: body.contactId,
        device_id: deviceId,
        status: 'assessment',
        arrived_on: body.arrivedOn,
        first_power_on_at: new Date(body.firstPowerOnAt),
        failed_at: new Date(body.failedAt),
        symptoms: body.symptoms,
        applied_by_end_user: body.appliedByEndUser,
        applied_at: appliedAt,
        registered_by: by.actor,
        registered_by_role: by.role,
        created_at: appliedAt,
        updated_at: appliedAt,
      })
      .execute();
    await appendAuditEvent(trx, {
      caseId,
      occurredAt: by.at,
      actor: by.actor,
      actorRole: by.role,
      action: 'doa_claim.applied',
      comment: body.symptoms,
      data: { deviceSerial: body.deviceSerial, arrivedOn: body.arrivedOn, firstPowerOnAt: body.firstPowerOnAt, failedAt: body.failedAt, appliedByEndUser: body.appliedByEndUser },
      idempotencyKey: `${number}/applied`,
    });
    return caseId;
  });
  await startRegisteredCase(deps, doaClaimProcess, { caseNumber: number, workflowId: workflowId, input: { caseId, caseNumber: number } });
  return loadDoaClaim(deps.db, number);
}
