import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { insertDocument } from '../../db/repositories/documents';
import type { Locale } from '../../db/schema';
import {
  RECTIFICATION_DEVICE_FINAL_STATUSES,
  type RectificationCustomerStatus,
  type RectificationSolution,
} from '../../workflows/rectification/definitions';
import { BUSINESS_RULE_VIOLATION, type ActorStamp } from '../../workflows/shared/definitions';
import { auditEventInsert } from '../shared/audit';
import { createCaseStepRunner, type StepEmail } from '../shared/case-step';
import type { SignedLinks } from '../shared/signed-links';

/** The customer's link on which they confirm, device by device, the software fix they applied (api/rectification/link-actions.ts). */
export const SOFTWARE_APPLY_ACTION = 'rectification.software-apply';
export const SOFTWARE_APPLY_LINK_TTL_HOURS = 24 * 90;

export interface RectificationCampaignActivityDependencies {
  db: Db;
  links: SignedLinks;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
}

/** A site the customer child starts a site visit for, with the campaign's devices there. */
export interface SiteVisit {
  siteId: string;
  deviceIds: string[];
}

/** The campaign, and the customer a step is about with the contact who signs and is written to. */
async function customerRow(executor: DbExecutor, caseId: string, customerId: string) {
  const row = await executor
    .selectFrom('rectification_customers as rc')
    .innerJoin('rectification_campaigns as r', 'r.case_id', 'rc.campaign_case_id')
    .innerJoin('customers as c', 'c.id', 'rc.customer_id')
    .selectAll('rc')
    .select(['r.case_number', 'r.title', 'r.solution', 'r.solution_kind', 'r.high_risk', 'c.name as customer_name'])
    .where('rc.campaign_case_id', '=', caseId)
    .where('rc.customer_id', '=', customerId)
    .executeTakeFirst();
  if (!row) throw ApplicationFailure.nonRetryable(`customer ${customerId} is not in campaign ${caseId}`, BUSINESS_RULE_VIOLATION);
  const contact = await customerContact(executor, customerId);
  return { ...row, contact };
}
type CustomerRow = Awaited<ReturnType<typeof customerRow>>;

/** Who signs and reads for the customer: their technical contact where they have one, else the first contact on record. */
async function customerContact(executor: DbExecutor, customerId: string): Promise<{ id: string; name: string; email: string; locale: Locale }> {
  const contact = await executor
    .selectFrom('contacts')
    .select(['id', 'name', 'email', 'locale'])
    .where('customer_id', '=', customerId)
    .orderBy(sql`role = 'technical'`, 'desc')
    .orderBy('created_at')
    .orderBy('id')
    .executeTakeFirst();
  if (!contact) throw ApplicationFailure.nonRetryable(`customer ${customerId} has no contact to agree the rectification with`, BUSINESS_RULE_VIOLATION);
  return contact;
}

const refuse = (message: string, field: string): never => {
  throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message, details: [{ field }], nonRetryable: true });
};

const OPEN = sql<boolean>`status not in ('rectified', 'declined')`;

export function createRectificationCampaignActivities({ db, links, emailsQueued, logger }: RectificationCampaignActivityDependencies) {
  const customerStep = createCaseStepRunner<CustomerRow, { customerId: string }>(
    { db, logger, emailsQueued },
    {
      process: 'rectification',
      load: (trx, caseId, options) => customerRow(trx, caseId, options!.customerId),
      caseId: (row) => row.campaign_case_id,
      caseNumber: (row) => row.case_number,
      contact: (row) => ({ email: row.contact.email, locale: row.contact.locale }),
    },
  );

  const audit = (trx: DbExecutor, caseId: string, caseNumber: string, key: string, entry: { at: string; actor: string; role: string; action: string; comment?: string | null; data?: Record<string, unknown> }) =>
    auditEventInsert(trx, { caseId, occurredAt: entry.at, actor: entry.actor, actorRole: entry.role, action: entry.action, comment: entry.comment ?? null, data: entry.data ?? {}, idempotencyKey: `${caseNumber}/${key}` });

  const sitesOf = (rows: { device_id: string; site_id: string | null }[]): SiteVisit[] => {
    const bySite = new Map<string, string[]>();
    for (const row of rows) {
      if (row.site_id === null) continue;
      bySite.set(row.site_id, [...(bySite.get(row.site_id) ?? []), row.device_id]);
    }
    return [...bySite].map(([siteId, deviceIds]) => ({ siteId, deviceIds }));
  };

  const openDeviceCount = async (executor: DbExecutor, caseId: string, customerId: string): Promise<number> => {
    const { count } = await executor
      .selectFrom('rectification_devices')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('campaign_case_id', '=', caseId)
      .where('customer_id', '=', customerId)
      .where(OPEN)
      .executeTakeFirstOrThrow();
    return Number(count);
  };

  return {
    /** Management approved the plan: the rollout starts (once). */
    async startRectificationRollout(input: { caseId: string; at: string }): Promise<{ solutionKind: RectificationSolution['kind']; highRisk: boolean }> {
      return db.transaction().execute(async (trx) => {
        const campaign = await trx.selectFrom('rectification_campaigns').select(['case_number', 'status', 'solution_kind', 'high_risk']).where('case_id', '=', input.caseId).forUpdate().executeTakeFirstOrThrow();
        if (campaign.status === 'planning') {
          await trx.updateTable('rectification_campaigns').set({ status: 'rolling_out', approved_at: input.at, updated_at: input.at }).where('case_id', '=', input.caseId).execute();
          await trx.updateTable('cases').set({ status: 'rolling_out', updated_at: input.at }).where('id', '=', input.caseId).execute();
          await audit(trx, input.caseId, campaign.case_number, 'rollout', { at: input.at, actor: 'system', role: 'system', action: 'rectification.rollout_started' }).execute();
        }
        logger.info({ caseNumber: campaign.case_number, step: 'rollout', actorRole: 'system' }, `rectification ${campaign.case_number}: rollout`);
        return { solutionKind: campaign.solution_kind, highRisk: campaign.high_risk };
      });
    },

    /**
     * The next customers to start, at most `limit`, as batch number `batch`: a retried claim of the same
     * number returns the same customers (the batch is recorded on their rows), so none is started twice
     * or left unstarted. Empty when every customer has been claimed.
     */
    async claimRectificationCustomers(input: { caseId: string; batch: number; limit: number }): Promise<string[]> {
      return db.transaction().execute(async (trx) => {
        const claimed = await trx.selectFrom('rectification_customers').select('customer_id').where('campaign_case_id', '=', input.caseId).where('batch', '=', input.batch).orderBy('customer_id').execute();
        if (claimed.length > 0) return claimed.map((row) => row.customer_id);
        const next = await trx
          .updateTable('rectification_customers')
          .set({ batch: input.batch })
          .where('campaign_case_id', '=', input.caseId)
          .where('customer_id', 'in', (eb) =>
            eb.selectFrom('rectification_customers').select('customer_id').where('campaign_case_id', '=', input.caseId).where('batch', 'is', null).orderBy('customer_id').limit(input.limit).forUpdate().skipLocked(),
          )
          .returning('customer_id')
          .execute();
        return next.map((row) => row.customer_id).sort();
      });
    },

    /** A customer's child starts: their agreement document (plan and timing, signed by their contact) is registered; they wait for it. */
    async openRectificationCustomer(input: { caseId: string; customerId: string; documentId: string; at: string }): Promise<{ documentId: string; status: RectificationCustomerStatus; open: number }> {
      return customerStep(
        input.caseId,
        { step: 'customer_opened', actorRole: 'system', key: `customer/${input.customerId}/opened` },
        async (row, trx) => {
          const open = await openDeviceCount(trx, input.caseId, input.customerId);
          if (row.agreement_document_id || row.status !== 'pending') return { writes: [], result: { documentId: row.agreement_document_id ?? input.documentId, status: row.status, open } };
          return {
            writes: [
              {
                execute: () =>
                  insertDocument(trx, {
                    id: input.documentId,
                    caseId: input.caseId,
                    kind: 'rectification_agreement',
                    title: `Rectification ${row.case_number}: plan and timing for ${row.customer_name}`,
                    steps: ['customer_signature'],
                    contactId: row.contact.id,
                    createdBy: 'system',
                  }),
              },
              trx
                .updateTable('rectification_customers')
                .set({ status: 'awaiting_agreement', agreement_document_id: input.documentId, updated_at: input.at })
                .where('campaign_case_id', '=', input.caseId)
                .where('customer_id', '=', input.customerId),
              audit(trx, input.caseId, row.case_number, `customer/${input.customerId}/opened`, { at: input.at, actor: 'system', role: 'system', action: 'rectification.customer_opened', data: { customerId: input.customerId, documentId: input.documentId, devices: open } }),
            ],
            result: { documentId: input.documentId, status: 'awaiting_agreement', open },
          };
        },
        { customerId: input.customerId },
      );
    },

    /**
     * The customer signed the plan and timing. Hardware: their devices go to site work, one visit per
     * site. Software: they are emailed the version/patch and guide with the link on which they confirm
     * each device (or ask for an engineer).
     */
    async recordRectificationAgreement(input: { caseId: string; customerId: string; at: string }): Promise<{ visits: SiteVisit[] }> {
      return customerStep(
        input.caseId,
        { step: 'customer_agreed', actorRole: 'customer', key: `customer/${input.customerId}/agreed` },
        async (row, trx) => {
          const waiting = await trx
            .selectFrom('rectification_devices as rd')
            .innerJoin('devices as d', 'd.id', 'rd.device_id')
            .select(['rd.device_id', 'rd.site_id', 'rd.status', 'd.serial'])
            .where('rd.campaign_case_id', '=', input.caseId)
            .where('rd.customer_id', '=', input.customerId)
            .orderBy('d.serial')
            .execute();
          if (row.status !== 'awaiting_agreement') {
            // Retried after it committed: the same visits (devices still at site work).
            return { writes: [], result: { visits: row.solution_kind === 'hardware' ? sitesOf(waiting.filter((d) => d.status === 'site_work')) : [] } };
          }
          const agreed = waiting.filter((device) => device.status === 'awaiting_agreement');
          const hardware = row.solution_kind === 'hardware';
          const emails: StepEmail[] = [];
          if (!hardware && agreed.length > 0) {
            const solution = row.solution as Extract<RectificationSolution, { kind: 'software' }>;
            const link = links.issue({ caseId: row.agreement_document_id!, action: SOFTWARE_APPLY_ACTION, singleUse: false, ttlHours: SOFTWARE_APPLY_LINK_TTL_HOURS });
            emails.push({
              key: `customer/${input.customerId}/software-kit`,
              content: {
                template: 'rectification_software_kit',
                params: {
                  campaignNumber: row.case_number,
                  customerName: row.contact.name,
                  title: row.title,
                  version: solution.version,
                  patch: solution.patch,
                  guide: solution.guide,
                  instructions: solution.instructions,
                  serials: agreed.map((device) => device.serial),
                  applyUrl: link.url,
                  expiresOn: link.expiresAt.toISOString(),
                },
              },
            });
          }
          return {
            writes: [
              trx.updateTable('rectification_customers').set({ status: 'in_progress', agreed_at: input.at, updated_at: input.at }).where('campaign_case_id', '=', input.caseId).where('customer_id', '=', input.customerId),
              trx
                .updateTable('rectification_devices')
                .set({ status: hardware ? 'site_work' : 'awaiting_customer_apply', updated_at: input.at })
                .where('campaign_case_id', '=', input.caseId)
                .where('customer_id', '=', input.customerId)
                .where('status', '=', 'awaiting_agreement'),
              audit(trx, input.caseId, row.case_number, `customer/${input.customerId}/agreed`, {
                at: input.at,
                actor: row.contact.name,
                role: 'customer',
                action: 'rectification.customer_agreed',
                data: { customerId: input.customerId, devices: agreed.length, solutionKind: row.solution_kind },
              }),
            ],
            emails,
            result: { visits: hardware ? sitesOf(agreed) : [] },
          };
        },
        { customerId: input.customerId },
      );
    },

    /**
     * The customer refused, with proof (evidence files on the campaign's case). Every device of theirs
     * not rectified and not in a site visit is declined with that proof; a visit under way decides its
     * own devices. The customer is closed as declined and told.
     */
    async declineRectificationCustomer(input: { caseId: string; customerId: string; stamp: ActorStamp; reason: string; evidenceIds: string[] }): Promise<{ declined: number; open: number }> {
      return customerStep(
        input.caseId,
        { step: 'customer_declined', actorRole: input.stamp.role, key: `customer/${input.customerId}/declined` },
        async (row, trx) => {
          if (row.status === 'declined') return { writes: [], result: { declined: 0, open: await openDeviceCount(trx, input.caseId, input.customerId) } };
          const evidence = await trx.selectFrom('evidence_files').select('id').where('case_id', '=', input.caseId).where('id', 'in', input.evidenceIds).execute();
          const found = new Set(evidence.map((file) => file.id));
          input.evidenceIds.forEach((id, index) => {
            if (!found.has(id)) refuse(`evidence ${id} is not a file of campaign ${row.case_number}: upload the customer's proof to the campaign first`, `evidenceIds.${index}`);
          });
          const declinable = await trx
            .selectFrom('rectification_devices')
            .select('device_id')
            .where('campaign_case_id', '=', input.caseId)
            .where('customer_id', '=', input.customerId)
            .where('status', 'in', ['awaiting_agreement', 'awaiting_customer_apply'])
            .execute();
          const atSite = await trx
            .selectFrom('rectification_devices')
            .select((eb) => eb.fn.countAll<string>().as('count'))
            .where('campaign_case_id', '=', input.caseId)
            .where('customer_id', '=', input.customerId)
            .where('status', 'in', ['site_work', 'failed'])
            .executeTakeFirstOrThrow();
          return {
            writes: [
              trx
                .updateTable('rectification_customers')
                .set({ status: 'declined', declined_at: input.stamp.at, declined_by: input.stamp.actor, decline_reason: input.reason, decline_evidence_ids: input.evidenceIds, updated_at: input.stamp.at })
                .where('campaign_case_id', '=', input.caseId)
                .where('customer_id', '=', input.customerId),
              trx
                .updateTable('rectification_devices')
                .set({ status: 'declined', decline_evidence_ids: input.evidenceIds, updated_at: input.stamp.at })
                .where('campaign_case_id', '=', input.caseId)
                .where('customer_id', '=', input.customerId)
                .where('status', 'in', ['awaiting_agreement', 'awaiting_customer_apply']),
              audit(trx, input.caseId, row.case_number, `customer/${input.customerId}/declined`, {
                at: input.stamp.at,
                actor: input.stamp.actor,
                role: input.stamp.role,
                action: 'rectification.customer_declined',
                comment: input.reason,
                data: { customerId: input.customerId, evidenceIds: input.evidenceIds, devices: declinable.length },
              }),
            ],
            emails: [
              {
                key: `customer/${input.customerId}/declined`,
                content: { template: 'rectification_declined', params: { campaignNumber: row.case_number, customerName: row.contact.name, title: row.title, devices: declinable.length, reason: input.reason } },
              },
            ],
            result: { declined: declinable.length, open: Number(atSite.count) },
          };
        },
        { customerId: input.customerId },
      );
    },

    /**
     * Software: the customer applied the fix on these devices (rectified), or asks for an engineer:
     * then every device of theirs at those sites still waiting for them goes to one site visit per site.
     */
    async confirmRectificationDevices(input: {
      caseId: string;
      customerId: string;
      stamp: ActorStamp;
      deviceIds: string[];
      outcome: 'applied' | 'engineer_requested';
      note: string | null;
      key: string;
    }): Promise<{ rectified: number; visits: SiteVisit[] }> {
      return customerStep(
        input.caseId,
        { step: `devices_${input.outcome}`, actorRole: input.stamp.role, key: `customer/${input.customerId}/devices/${input.key}` },
        async (row, trx) => {
          const already = await trx.selectFrom('audit_events').select('data').where('idempotency_key', '=', `${row.case_number}/customer/${input.customerId}/devices/${input.key}`).executeTakeFirst();
          if (already) return { writes: [], result: (already.data as { result: { rectified: number; visits: SiteVisit[] } }).result };
          const devices = await trx
            .selectFrom('rectification_devices')
            .select(['device_id', 'site_id', 'status'])
            .where('campaign_case_id', '=', input.caseId)
            .where('customer_id', '=', input.customerId)
            .where('device_id', 'in', input.deviceIds)
            .execute();
          const byId = new Map(devices.map((device) => [device.device_id, device]));
          input.deviceIds.forEach((id, index) => {
            const device = byId.get(id);
            if (!device) refuse(`device ${id} is not one of this customer's devices in ${row.case_number}`, `deviceIds.${index}`);
            else if (device.status !== 'awaiting_customer_apply') refuse(`device ${id} is not waiting for the customer to apply the fix (it is ${device.status.replace(/_/g, ' ')})`, `deviceIds.${index}`);
            else if (input.outcome === 'engineer_requested' && device.site_id === null) refuse(`device ${id} has no site on record for an engineer to visit`, `deviceIds.${index}`);
          });
          let visits: SiteVisit[] = [];
          let moved: string[] = input.deviceIds;
          if (input.outcome === 'engineer_requested') {
            const siteIds = [...new Set(devices.map((device) => device.site_id!))];
            const atSites = await trx
              .selectFrom('rectification_devices')
              .select(['device_id', 'site_id'])
              .where('campaign_case_id', '=', input.caseId)
              .where('customer_id', '=', input.customerId)
              .where('status', '=', 'awaiting_customer_apply')
              .where('site_id', 'in', siteIds)
              .orderBy('device_id')
              .execute();
            visits = sitesOf(atSites);
            moved = atSites.map((device) => device.device_id);
          }
          const result = { rectified: input.outcome === 'applied' ? moved.length : 0, visits };
          return {
            writes: [
              trx
                .updateTable('rectification_devices')
                .set(
                  input.outcome === 'applied'
                    ? { status: 'rectified', applied_by: input.stamp.actor, updated_at: input.stamp.at }
                    : { status: 'site_work', engineer_requested_at: input.stamp.at, updated_at: input.stamp.at },
                )
                .where('campaign_case_id', '=', input.caseId)
                .where('device_id', 'in', moved),
              audit(trx, input.caseId, row.case_number, `customer/${input.customerId}/devices/${input.key}`, {
                at: input.stamp.at,
                actor: input.stamp.actor,
                role: input.stamp.role,
                action: input.outcome === 'applied' ? 'rectification.devices_applied' : 'rectification.engineer_requested',
                comment: input.note,
                data: { customerId: input.customerId, deviceIds: moved, result },
              }),
            ],
            result,
          };
        },
        { customerId: input.customerId },
      );
    },

    /** Devices of the customer neither rectified nor declined, read from the database (the site children write theirs). */
    async countOpenRectificationDevices(input: { caseId: string; customerId: string }): Promise<number> {
      return openDeviceCount(db, input.caseId, input.customerId);
    },

    /** Every device of the customer is rectified or declined: the customer closes (as declined if they refused). */
    async completeRectificationCustomer(input: { caseId: string; customerId: string; at: string }): Promise<{ status: 'completed' | 'declined'; rectified: number; declined: number }> {
      return customerStep(
        input.caseId,
        { step: 'customer_completed', actorRole: 'system', key: `customer/${input.customerId}/completed` },
        async (row, trx) => {
          const open = await openDeviceCount(trx, input.caseId, input.customerId);
          if (open > 0) throw ApplicationFailure.nonRetryable(`customer ${input.customerId} of ${row.case_number} still has ${open} open devices`, BUSINESS_RULE_VIOLATION);
          const counts = await trx
            .selectFrom('rectification_devices')
            .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
            .where('campaign_case_id', '=', input.caseId)
            .where('customer_id', '=', input.customerId)
            .groupBy('status')
            .execute();
          const count = (status: string) => Number(counts.find((c) => c.status === status)?.count ?? 0);
          const status = row.status === 'declined' ? 'declined' : 'completed';
          const result = { status, rectified: count('rectified'), declined: count('declined') } as const;
          return {
            writes: [
              trx.updateTable('rectification_customers').set({ status, completed_at: sql`coalesce(completed_at, ${input.at}::timestamptz)`, updated_at: input.at }).where('campaign_case_id', '=', input.caseId).where('customer_id', '=', input.customerId),
              audit(trx, input.caseId, row.case_number, `customer/${input.customerId}/completed`, { at: input.at, actor: 'system', role: 'system', action: 'rectification.customer_completed', data: { customerId: input.customerId, ...result } }),
            ],
            result,
          };
        },
        { customerId: input.customerId },
      );
    },

    /** Every customer closed: the campaign completes, checked against its devices (each rectified or declined). */
    async completeRectificationCampaign(input: { caseId: string; at: string }): Promise<{ rectified: number; declined: number }> {
      return db.transaction().execute(async (trx) => {
        const campaign = await trx.selectFrom('rectification_campaigns').select(['case_number', 'status']).where('case_id', '=', input.caseId).forUpdate().executeTakeFirstOrThrow();
        const counts = await trx
          .selectFrom('rectification_devices')
          .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
          .where('campaign_case_id', '=', input.caseId)
          .groupBy('status')
          .execute();
        const open = counts.filter((c) => !(RECTIFICATION_DEVICE_FINAL_STATUSES as readonly string[]).includes(c.status));
        if (open.length > 0) throw ApplicationFailure.nonRetryable(`campaign ${campaign.case_number} still has open devices: ${open.map((c) => `${c.count} ${c.status}`).join(', ')}`, BUSINESS_RULE_VIOLATION);
        const count = (status: string) => Number(counts.find((c) => c.status === status)?.count ?? 0);
        if (campaign.status !== 'completed') {
          await trx.updateTable('rectification_campaigns').set({ status: 'completed', completed_at: input.at, updated_at: input.at }).where('case_id', '=', input.caseId).execute();
          await trx.updateTable('cases').set({ status: 'completed', updated_at: input.at, closed_at: input.at }).where('id', '=', input.caseId).execute();
          await audit(trx, input.caseId, campaign.case_number, 'completed', {
            at: input.at,
            actor: 'system',
            role: 'system',
            action: 'rectification.completed',
            data: { rectified: count('rectified'), declined: count('declined') },
          }).execute();
        }
        logger.info({ caseNumber: campaign.case_number, step: 'completed', actorRole: 'system' }, `rectification ${campaign.case_number}: completed`);
        return { rectified: count('rectified'), declined: count('declined') };
      });
    },
  };
}
