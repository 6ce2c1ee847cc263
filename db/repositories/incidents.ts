import { auditEventInsert } from '../../activities/shared/audit';
import { gradeIncident, type IncidentLevel, type PriorOccurrence } from '../../workflows/rules/grading';
import { symptomCode, incidentWorkflowId, type IncidentOrigin } from '../../workflows/incident/definitions';
import type { DbExecutor } from '../index';
import { insertCase } from './cases';

export interface NewIncidentCase {
  origin: IncidentOrigin;
  /** The fault repair it came from, linked both ways in the read models. */
  originCaseId: string | null;
  customerId: string;
  contactId: string;
  siteId: string | null;
  deviceId: string | null;
  /** What happens (free text; a symptom code is derived and recorded for the repeat rules). */
  symptom: string;
  /** When the incident started (a window overrun: the end of the window). */
  startedAt: Date;
  reportedBy: string;
  reportedByRole: string;
  /** The ladder's first level counts from here. */
  reportedAt: Date;
}

export interface InsertedIncident {
  caseId: string;
  caseNumber: string;
  workflowId: string;
  /**
   * Set when this notice is the same symptom on the same device within 24 h of an earlier incident's
   * recovery: this case is recorded as `continued` and that incident reopens (its workflow is told when
   * this case's workflow starts).
   */
  continuesCaseNumber: string | null;
}

/** The site id of a PriorOccurrence when the incident names none: incidents without a site match each other. */
const NO_SITE = '-';
const NO_PRODUCT = '-';

/**
 * A customer's earlier incidents as the repeat rules read them: one occurrence per incident, and one
 * more per continuation recorded on it (so a chain's occurrences are counted). Ungraded incidents
 * take level 3 (they were never raised); incidents decided not to be one are left out.
 */
export async function loadIncidentHistory(db: DbExecutor, customerId: string, exceptCaseNumber: string | null): Promise<PriorOccurrence[]> {
  const rows = await db
    .selectFrom('incidents as i')
    .leftJoin('incidents as c', 'c.case_id', 'i.continues_case_id')
    .select([
      'i.case_number',
      'i.status',
      'i.site_id',
      'i.product_id',
      'i.device_id',
      'i.symptom_code',
      'i.started_at',
      'i.restored_at',
      'i.level',
      'c.case_number as continued_number',
      'c.restored_at as continued_restored_at',
      'c.level as continued_level',
    ])
    .where('i.customer_id', '=', customerId)
    .where('i.status', '!=', 'not_an_incident')
    .execute();
  const history: PriorOccurrence[] = [];
  for (const row of rows) {
    const continued = row.status === 'continued' && row.continued_number !== null;
    const incidentId = continued ? row.continued_number! : row.case_number;
    if (incidentId === exceptCaseNumber || row.case_number === exceptCaseNumber) continue;
    const restoredAt = continued ? row.continued_restored_at : row.restored_at;
    history.push({
      incidentId,
      customerId,
      siteId: row.site_id ?? NO_SITE,
      productId: row.product_id ?? NO_PRODUCT,
      deviceId: row.device_id ?? undefined,
      symptom: row.symptom_code,
      occurredAt: row.started_at.toISOString(),
      recoveredAt: restoredAt ? restoredAt.toISOString() : null,
      level: ((continued ? row.continued_level : row.level) ?? 3) as IncidentLevel,
    });
  }
  return history;
}

/** What the grading rules need of an incident: the customer's class, the product's line, and the occurrence. */
export async function loadIncidentSubject(db: DbExecutor, input: { customerId: string; productId: string | null }) {
  const customer = await db.selectFrom('customers').select(['customer_class']).where('id', '=', input.customerId).executeTakeFirstOrThrow();
  const product = input.productId ? await db.selectFrom('products').select(['product_line']).where('id', '=', input.productId).executeTakeFirst() : undefined;
  return { customerClass: customer.customer_class, productFamily: (product?.product_line ?? null) };
}

/**
 * The incident this occurrence continues (same symptom on the same device within 24 h of its
 * recovery, fewer than three occurrences so far), by gradeIncident's repeat rules; null otherwise.
 */
export async function findContinuedIncident(
  db: DbExecutor,
  occurrence: { caseNumber: string | null; customerId: string; siteId: string | null; productId: string | null; deviceId: string | null; symptomCode: string; startedAt: string },
): Promise<string | null> {
  const { customerClass, productFamily } = await loadIncidentSubject(db, occurrence);
  if (productFamily === null) return null;
  const history = await loadIncidentHistory(db, occurrence.customerId, occurrence.caseNumber);
  if (history.length === 0) return null;
  const result = gradeIncident({
    customerClass,
    productFamily,
    occurrence: {
      customerId: occurrence.customerId,
      siteId: occurrence.siteId ?? NO_SITE,
      productId: occurrence.productId ?? NO_PRODUCT,
      deviceId: occurrence.deviceId ?? undefined,
      symptom: occurrence.symptomCode,
      occurredAt: occurrence.startedAt,
    },
    history,
  });
  return result.outcome === 'continuation' ? result.continuesIncidentId : null;
}

export function priorOccurrenceKeys(incident: { site_id: string | null; product_id: string | null }): { siteId: string; productId: string } {
  return { siteId: incident.site_id ?? NO_SITE, productId: incident.product_id ?? NO_PRODUCT };
}

/**
 * Inserts the case (its start status) and the incident in the caller's transaction; the number comes
 * from nextCaseNumber outside it. The product and, when not given, the site come from the device.
 * A notice that continues an earlier incident is recorded as `continued`, linked to it.
 */
export async function insertIncidentCase(trx: DbExecutor, caseNumber: string, input: NewIncidentCase): Promise<InsertedIncident> {
  const workflowId = incidentWorkflowId(caseNumber);
  const device = input.deviceId
    ? await trx.selectFrom('devices').select(['product_id', 'site_id', 'customer_id']).where('id', '=', input.deviceId).executeTakeFirst()
    : undefined;
  if (input.deviceId && (!device || device.customer_id !== input.customerId)) throw new Error(`device ${input.deviceId} is not in the installed base of customer ${input.customerId}`);
  const siteId = input.siteId ?? device?.site_id ?? null;
  const productId = device?.product_id ?? null;
  const code = symptomCode(input.symptom);
  const continuesCaseNumber = await findContinuedIncident(trx, {
    caseNumber: null,
    customerId: input.customerId,
    siteId,
    productId,
    deviceId: input.deviceId,
    symptomCode: code,
    startedAt: input.startedAt.toISOString(),
  });
  const continued = continuesCaseNumber
    ? await trx.selectFrom('incidents').select('case_id').where('case_number', '=', continuesCaseNumber).executeTakeFirstOrThrow()
    : null;
  const status = continued ? 'continued' : 'registered';
  const caseId = await insertCase(trx, { kind: 'incident', number: caseNumber, status, customerId: input.customerId, deviceId: input.deviceId, workflowId, at: input.reportedAt });
  await trx
    .insertInto('incidents')
    .values({
      case_id: caseId,
      case_number: caseNumber,
      customer_id: input.customerId,
      contact_id: input.contactId,
      site_id: siteId,
      device_id: input.deviceId,
      product_id: productId,
      origin: input.origin,
      origin_case_id: input.originCaseId,
      symptom: input.symptom,
      symptom_code: code,
      started_at: input.startedAt,
      reported_at: input.reportedAt,
      reported_by: input.reportedBy,
      reported_by_role: input.reportedByRole,
      status,
      continues_case_id: continued?.case_id ?? null,
      ladder_entered_at: input.reportedAt,
      created_at: input.reportedAt,
      updated_at: input.reportedAt,
    })
    .execute();
  await auditEventInsert(trx, {
    caseId,
    occurredAt: input.reportedAt.toISOString(),
    actor: input.reportedBy,
    actorRole: input.reportedByRole,
    action: 'incident.registered',
    comment: input.symptom,
    data: { origin: input.origin, originCaseId: input.originCaseId, startedAt: input.startedAt.toISOString(), deviceId: input.deviceId, siteId, continuesCaseNumber },
    idempotencyKey: `${caseNumber}/registered`,
  }).execute();
  return { caseId, caseNumber, workflowId, continuesCaseNumber };
}
