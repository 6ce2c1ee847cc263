import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Db } from '../../db';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { insertDocument } from '../../db/repositories/documents';
import { RECTIFICATION_DEFECT_TYPES, campaignWorkflowId, type RectificationCampaignInput } from '../../workflows/rectification/definitions';
import { shanghaiDate } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import { ApiError, type FieldProblem } from '../errors';
import { startRegisteredCase, type CaseProcess } from '../shared/case-processes';
import { INT4_MAX, requiredText } from '../shared/schemas';
import { loadRectificationCampaign, type RectificationCampaignDto } from './read-model';

export interface RectificationCampaignDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  logger?: Pick<Logger, 'warn'>;
}

/** Customers started at once and the parent's history limit, unless the campaign says otherwise. */
export const DEFAULT_CUSTOMERS_AT_ONCE = 20;
export const DEFAULT_HISTORY_LIMIT = 5_000;

const serial = requiredText(64);
const part = z.object({ productCode: requiredText(64), quantity: z.number().int().min(1).max(10_000) });

/** A serial's prefix and its number: `SN1000` is `SN` and `1000` (4 digits). */
function splitSerial(value: string): { prefix: string; digits: string } | undefined {
  const match = /^(.*?)(\d+)$/.exec(value);
  return match ? { prefix: match[1]!, digits: match[2]! } : undefined;
}

const serialRange = z
  .object({ from: serial, to: serial })
  .superRefine((range, ctx) => {
    const from = splitSerial(range.from);
    const to = splitSerial(range.to);
    if (!from) return ctx.addIssue({ code: 'custom', path: ['from'], message: 'must end in digits (e.g. SN1000)' });
    if (!to) return ctx.addIssue({ code: 'custom', path: ['to'], message: 'must end in digits (e.g. SN1999)' });
    if (from.prefix !== to.prefix || from.digits.length !== to.digits.length) {
      return ctx.addIssue({ code: 'custom', path: ['to'], message: `must have the same prefix and number of digits as from (${from.prefix}${'#'.repeat(from.digits.length)})` });
    }
    if (to.digits < from.digits) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  })
  .meta({ description: 'Serials from..to inclusive, on the same prefix with numbers of the same width' });

export const campaignRegistrationSchema = z
  .object({
    title: requiredText(200),
    defectType: z.enum(RECTIFICATION_DEFECT_TYPES),
    description: requiredText(8000),
    affected: z
      .object({
        productCodes: z.array(requiredText(64)).max(100).default([]).meta({ description: 'Only devices of these products (all products when empty)' }),
        serials: z.array(serial).max(10_000).default([]),
        serialRanges: z.array(serialRange).max(1_000).default([]),
      })
      .refine((affected) => affected.serials.length + affected.serialRanges.length > 0, { message: 'name the affected serials or serial ranges', path: ['serials'] }),
    solution: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('software'),
        version: requiredText(100),
        patch: requiredText(200).nullable().default(null),
        guide: requiredText(2000).meta({ description: 'Where the upgrade guide is (a URL or document reference)' }),
        instructions: requiredText(8000),
      }),
      z.object({ kind: z.literal('hardware'), parts: z.array(part).min(1).max(100), instructions: requiredText(8000) }),
    ]),
    effort: z.object({
      hoursPerDevice: z.number().min(0).max(1_000).multipleOf(0.01),
      partsPerDevice: z.array(part).max(100).default([]),
    }),
    highRisk: z.boolean().meta({ description: 'The implementation plans need R&D review (finished at least 3 days before each slot)' }),
    rollout: z
      .object({
        customersAtOnce: z.number().int().min(1).max(1_000).default(DEFAULT_CUSTOMERS_AT_ONCE),
        historyLimit: z.number().int().min(20).max(50_000).default(DEFAULT_HISTORY_LIMIT).meta({ description: 'The campaign workflow continues as new past this many history events' }),
      })
      .default({ customersAtOnce: DEFAULT_CUSTOMERS_AT_ONCE, historyLimit: DEFAULT_HISTORY_LIMIT }),
  })
  .meta({ id: 'NewRectificationCampaign' });
export type CampaignRegistration = z.output<typeof campaignRegistrationSchema>;

/** How a campaign starts its workflow: from registration and from the recovery at worker start-up. */
export const rectificationCampaignProcess: CaseProcess<RectificationCampaignInput> = {
  kind: 'batch_rectification',
  workflowType: 'rectificationCampaignWorkflow',
  startStatuses: ['planning'],
  async loadInput(db, caseRow) {
    const row = await db.selectFrom('rectification_campaigns').select(['case_number', 'plan_document_id', 'customers_at_once', 'history_limit']).where('case_id', '=', caseRow.id).executeTakeFirst();
    return row && { caseId: caseRow.id, campaignNumber: row.case_number, planDocumentId: row.plan_document_id, batchSize: row.customers_at_once, historyLimit: row.history_limit };
  },
};

/** The installed base the warning names: devices by serial or serial range, of the products named. */
async function affectedDevices(db: Db, body: CampaignRegistration) {
  const { serials, serialRanges, productCodes } = body.affected;
  const problems: FieldProblem[] = [];
  const products = productCodes.length > 0 ? await db.selectFrom('products').select(['id', 'code']).where('code', 'in', productCodes).execute() : [];
  productCodes.forEach((code, index) => {
    if (!products.some((product) => product.code === code)) problems.push({ in: 'body', field: `affected.productCodes.${index}`, message: `no product ${code}` });
  });
  const rangeConditions = serialRanges.map((range) => {
    const { prefix, digits } = splitSerial(range.from)!;
    return sql<boolean>`(d.serial >= ${range.from} and d.serial <= ${range.to} and length(d.serial) = ${prefix.length + digits.length} and starts_with(d.serial, ${prefix}) and substr(d.serial, ${prefix.length + 1}) ~ '^[0-9]+$')`;
  });
  const conditions = [...(serials.length > 0 ? [sql<boolean>`d.serial = any(${serials}::text[])`] : []), ...rangeConditions];
  const productIds = products.map((product) => product.id);
  const devices = await db
    .selectFrom('devices as d')
    .select(['d.id', 'd.serial', 'd.customer_id', 'd.site_id'])
    .where(sql<boolean>`(${sql.join(conditions, sql` or `)})`)
    .$if(productIds.length > 0, (query) => query.where('d.product_id', 'in', productIds))
    .orderBy('d.serial')
    .execute();
  const found = new Set(devices.map((device) => device.serial));
  serials.forEach((value, index) => {
    if (!found.has(value)) problems.push({ in: 'body', field: `affected.serials.${index}`, message: `no device ${value}${productIds.length > 0 ? ' of the products named' : ''} in the installed base` });
  });
  if (problems.length > 0) throw ApiError.validation(problems);
  if (devices.length === 0) throw new ApiError(422, 'business_rule_violated', 'no device of the installed base is in the serial ranges named', { field: 'affected.serialRanges' });
  if (body.solution.kind === 'hardware') {
    const siteless = devices.filter((device) => device.site_id === null);
    if (siteless.length > 0) {
      throw new ApiError(422, 'business_rule_violated', `parts are replaced on site, but ${siteless.length} devices have no site on record (${siteless.slice(0, 5).map((device) => device.serial).join(', ')}${siteless.length > 5 ? ', ...' : ''}): record their sites first`, { field: 'affected' });
    }
  }
  return devices;
}

/** The parts of `perDevice` times `devices`, summed per product code. */
function totalParts(perDevice: readonly { productCode: string; quantity: number }[], devices: number) {
  const totals = new Map<string, number>();
  for (const { productCode, quantity } of perDevice) totals.set(productCode, (totals.get(productCode) ?? 0) + quantity * devices);
  return [...totals].map(([productCode, quantity]) => ({ productCode, quantity }));
}

/**
 * Raises a campaign from a warning: the installed base is computed (per customer, per site, per device),
 * manpower and materials totalled, and the case, the campaign, its customers and devices, the plan
 * document and the audit entry commit together; then the workflow starts, which sends the plan to
 * management approval.
 */
export async function registerRectificationCampaign(deps: RectificationCampaignDependencies, body: CampaignRegistration, by: ActorStamp & { userId: string | null }): Promise<RectificationCampaignDto> {
  const devices = await affectedDevices(deps.db, body);
  const customers = [...new Set(devices.map((device) => device.customer_id))];
  const sites = new Set(devices.flatMap((device) => (device.site_id ? [device.site_id] : [])));
  const hours = Math.round(body.effort.hoursPerDevice * devices.length * 100) / 100;
  const parts = totalParts(body.effort.partsPerDevice, devices.length);
  if (parts.some((p) => p.quantity > INT4_MAX)) throw ApiError.validation([{ in: 'body', field: 'effort.partsPerDevice', message: 'the totals exceed what can be recorded' }]);
  const at = new Date(by.at);
  const number = await nextCaseNumber(deps.db, 'RC', Number(shanghaiDate(at.getTime()).slice(0, 4)));
  const workflowId = campaignWorkflowId(number);
  const planDocumentId = randomUUID();
  const caseId = await deps.db.transaction().execute(async (trx) => {
    const caseId = await insertCase(trx, { kind: 'batch_rectification', number, status: 'planning', customerId: null, deviceId: null, workflowId, at });
    await insertDocument(trx, { id: planDocumentId, caseId, kind: 'rectification_plan', title: `Rectification plan ${number}: ${body.title}`, steps: ['manager_approval'], contactId: null, createdBy: by.actor });
    await trx
      .insertInto('rectification_campaigns')
      .values({
        case_id: caseId,
        case_number: number,
        status: 'planning',
        title: body.title,
        defect_type: body.defectType,
        description: body.description,
        affected: JSON.stringify(body.affected),
        solution: JSON.stringify(body.solution),
        solution_kind: body.solution.kind,
        effort_hours_per_device: body.effort.hoursPerDevice,
        effort_parts_per_device: JSON.stringify(body.effort.partsPerDevice),
        high_risk: body.highRisk,
        device_count: devices.length,
        site_count: sites.size,
        customer_count: customers.length,
        total_hours: hours,
        total_parts: JSON.stringify(parts),
        plan_document_id: planDocumentId,
        customers_at_once: body.rollout.customersAtOnce,
        history_limit: body.rollout.historyLimit,
        raised_by: by.actor,
        raised_by_role: by.role,
        raised_by_user_id: by.userId,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await trx
      .insertInto('rectification_customers')
      .values(customers.map((customerId) => ({ campaign_case_id: caseId, customer_id: customerId, status: 'pending' as const, updated_at: at })))
      .execute();
    for (let offset = 0; offset < devices.length; offset += 2_000) {
      await trx
        .insertInto('rectification_devices')
        .values(devices.slice(offset, offset + 2_000).map((device) => ({ campaign_case_id: caseId, device_id: device.id, customer_id: device.customer_id, site_id: device.site_id, status: 'awaiting_agreement' as const, updated_at: at })))
        .execute();
    }
    await appendAuditEvent(trx, {
      caseId,
      occurredAt: by.at,
      actor: by.actor,
      actorRole: by.role,
      action: 'rectification.raised',
      comment: body.description,
      data: { defectType: body.defectType, devices: devices.length, sites: sites.size, customers: customers.length, hours, parts },
      idempotencyKey: `${number}/raised`,
    });
    return caseId;
  });
  const input: RectificationCampaignInput = { caseId, campaignNumber: number, planDocumentId, batchSize: body.rollout.customersAtOnce, historyLimit: body.rollout.historyLimit };
  await startRegisteredCase(deps, rectificationCampaignProcess, { caseNumber: number, workflowId, input });
  return loadRectificationCampaign(deps.db, number);
}
