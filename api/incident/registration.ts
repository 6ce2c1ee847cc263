import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import { nextCaseNumber } from '../../db/repositories/cases';
import { insertIncidentCase, type NewIncidentCase } from '../../db/repositories/incidents';
import type { IncidentInput } from '../../workflows/incident/definitions';
import { shanghaiDate } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import { ApiError } from '../errors';
import { checkCaseParties } from '../shared/case-parties';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
import { isoInstantField, requiredText } from '../shared/schemas';
import { loadIncident, type IncidentDto } from './read-model';

export interface IncidentDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  clock: Clock;
}

export const noticeSchema = z.object({
  customerId: z.uuid(),
  contactId: z.uuid().meta({ description: "The customer's contact: told the status at every level change" }),
  deviceSerial: requiredText(64).meta({ description: "The failed device, in the customer's installed base (its product line grades the incident)" }),
  siteId: z.uuid().nullable().default(null).meta({ description: "The site; the device's when absent" }),
  symptom: requiredText(4000).meta({ description: 'What happens; the same symptom again within 24 h of a recovery continues that incident' }),
  startedAt: isoInstantField().meta({ description: 'When the incident started' }),
  reportedAt: isoInstantField().optional().meta({ description: 'When it was reported (the ladder counts from here); now when absent' }),
  originCaseNumber: z.string().regex(/^[A-Z]{1,8}-\d{4}-\d{6}$/, 'must look like FR-2026-000042').nullable().default(null).meta({ description: 'A case of the same customer this incident comes from (linked both ways)' }),
});

/** How an incident starts its workflow: from registration and from the recovery at worker start-up. */
export const incidentProcess: CaseProcess<IncidentInput> = {
  kind: 'incident',
  workflowType: 'incidentWorkflow',
  startStatuses: ['registered', 'continued'],
  async loadInput(db, caseRow) {
    const row = await db.selectFrom('incidents').select('case_number').where('case_id', '=', caseRow.id).executeTakeFirst();
    return row && { caseId: caseRow.id, caseNumber: row.case_number };
  },
};

async function checkNotice(db: Db, body: z.output<typeof noticeSchema>) {
  const { deviceId } = await checkCaseParties(db, body);
  if (body.siteId) {
    const site = await db.selectFrom('sites').select('id').where('id', '=', body.siteId).where('customer_id', '=', body.customerId).executeTakeFirst();
    if (!site) throw ApiError.validation([{ in: 'body', field: 'siteId', message: 'no such site for this customer' }]);
  }
  let originCaseId: string | null = null;
  if (body.originCaseNumber) {
    const origin = await db.selectFrom('cases').select(['id', 'customer_id']).where('number', '=', body.originCaseNumber).executeTakeFirst();
    if (!origin || origin.customer_id !== body.customerId) throw ApiError.validation([{ in: 'body', field: 'originCaseNumber', message: `no case ${body.originCaseNumber} of this customer` }]);
    originCaseId = origin.id;
  }
  return { deviceId, originCaseId };
}

/**
 * Starts an incident's workflow after its rows committed, idempotently; when Temporal does not answer
 * the case stays in its start status and the worker starts it later. For callers that inserted the
 * case themselves with insertIncidentCase (e.g. a fault repair's escalation).
 */
export async function startIncidentWorkflow(deps: Pick<IncidentDependencies, 'temporal' | 'taskQueue'> & { logger?: Pick<Logger, 'warn'> }, inserted: { caseId: string; caseNumber: string; workflowId: string }): Promise<void> {
  await startRegisteredCase(deps, incidentProcess, { caseNumber: inserted.caseNumber, workflowId: inserted.workflowId, input: { caseId: inserted.caseId, caseNumber: inserted.caseNumber } });
}

/** The number of a new incident reported at `at` (INC-<year>-<n>, year in China time). */
export function nextIncidentNumber(db: Db, at: Date): Promise<string> {
  return nextCaseNumber(db, 'INC', Number(shanghaiDate(at.getTime()).slice(0, 4)));
}

/**
 * An emergency notice from the desk or an engineer: the case and the incident commit together (a
 * continuation of an incident recovered within 24 h is recorded as `continued` and answered so);
 * then the workflow starts.
 */
export async function registerIncident(deps: IncidentDependencies & { logger?: Pick<Logger, 'warn'> }, body: z.output<typeof noticeSchema>, by: ActorStamp): Promise<IncidentDto> {
  const { deviceId, originCaseId } = await checkNotice(deps.db, body);
  const nowMs = deps.clock.now().getTime();
  for (const field of ['startedAt', 'reportedAt'] as const) {
    const value = body[field];
    if (value !== undefined && Date.parse(value) > nowMs + 5 * 60_000) throw ApiError.validation([{ in: 'body', field, message: 'is in the future' }]);
  }
  const reportedAt = new Date(body.reportedAt ?? by.at);
  if (Date.parse(body.startedAt) > reportedAt.getTime()) throw ApiError.validation([{ in: 'body', field: 'startedAt', message: 'is after reportedAt' }]);
  const number = await nextIncidentNumber(deps.db, reportedAt);
  const notice: NewIncidentCase = {
    origin: by.role === 'engineer' || by.role === 'senior_engineer' ? 'engineer' : 'desk',
    originCaseId,
    customerId: body.customerId,
    contactId: body.contactId,
    siteId: body.siteId,
    deviceId,
    symptom: body.symptom,
    startedAt: new Date(body.startedAt),
    reportedBy: by.actor,
    reportedByRole: by.role,
    reportedAt,
  };
  const inserted = await deps.db.transaction().execute((trx) => insertIncidentCase(trx, number, notice));
  await startIncidentWorkflow(deps, inserted);
  return loadIncident(deps.db, number);
}
