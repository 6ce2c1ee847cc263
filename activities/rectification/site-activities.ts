import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { insertDocument } from '../../db/repositories/documents';
import type { Database } from '../../db/schema';
import type { CustomerCalendarRules } from '../../workflows/rectification/definitions';
import {
  RD_REVIEW_LEAD_MS,
  type DeclineSite,
  type FinishImplementation,
  type PickMaterials,
  type ProposeSlot,
  type RectificationSiteInput,
  type RectificationSiteStatus,
  type SiteSlot,
  type SlotMoveReason,
} from '../../workflows/rectification/site-definitions';
import { describeSlotConflict, firstAllowedSlot, slotConflict } from '../../workflows/rules/rectification-slots';
import { MINUTE_MS, shanghaiDayNumber, shanghaiInstantMs } from '../../workflows/rules/time';
import { BUSINESS_RULE_VIOLATION, type ActorStamp } from '../../workflows/shared/definitions';
import type { SignOffStep } from '../../workflows/sign-off/definitions';
import { auditEventInsert } from '../shared/audit';
import { createCaseStepRunner, type StepEmail, type StepWrite } from '../shared/case-step';
import type { SignedLinks } from '../shared/signed-links';
import { returnDeadline, type WorkingDayCalendar } from '../spare-part/activities';

/** The customer's link to confirm one slot of one site (api/rectification/site-link-actions.ts). */
export const CONFIRM_SLOT_ACTION = 'rectification-site.confirm-slot';
export const CONFIRM_SLOT_LINK_TTL_HOURS = 24 * 30;

/** The subject a slot confirmation link is scoped to: one slot (by its number) of one site of one campaign. */
export function slotScope(campaignCaseId: string, siteId: string, seq: number): string {
  return `rectification-slot:${campaignCaseId}:${siteId}:${seq}`;
}
export function parseSlotScope(scope: string): { campaignCaseId: string; siteId: string; seq: number } | null {
  const match = /^rectification-slot:([0-9a-f-]{36}):([0-9a-f-]{36}):(\d{1,9})$/.exec(scope);
  return match ? { campaignCaseId: match[1]!, siteId: match[2]!, seq: Number(match[3]) } : null;
}

export interface SiteRef {
  campaignCaseId: string;
  siteId: string;
}

export interface RectificationSiteActivityDependencies {
  db: Db;
  links: SignedLinks;
  calendar: () => Promise<WorkingDayCalendar>;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
}

function ruleViolation(message: string, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message, details: [details], nonRetryable: true });
}

async function siteRow(executor: DbExecutor, ref: SiteRef) {
  const row = await executor
    .selectFrom('rectification_sites as r')
    .innerJoin('sites as s', 's.id', 'r.site_id')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .innerJoin('contacts as k', 'k.id', 'r.contact_id')
    .selectAll('r')
    .select(['s.name as site_name', 'c.name as customer_name', 'k.name as contact_name', 'k.email as contact_email', 'k.locale as contact_locale'])
    .where('r.campaign_case_id', '=', ref.campaignCaseId)
    .where('r.site_id', '=', ref.siteId)
    .executeTakeFirst();
  // Retryable: the site's row is written by the first step of its workflow.
  if (!row) throw ApplicationFailure.retryable(`no rectification site ${ref.siteId} in campaign ${ref.campaignCaseId} (yet)`, 'RectificationSiteNotFound');
  return row;
}
type SiteRow = Awaited<ReturnType<typeof siteRow>>;

/** The customer's recurring busy hours and dated protected periods, as the master data says now. */
export async function customerCalendarRules(executor: DbExecutor, customerId: string): Promise<CustomerCalendarRules> {
  const [busy, periods] = await Promise.all([
    executor.selectFrom('customer_busy_hours').select(['weekday', 'start_minute', 'end_minute']).where('customer_id', '=', customerId).orderBy('weekday').orderBy('start_minute').execute(),
    executor.selectFrom('customer_protected_periods').select(['starts_on', 'ends_on', 'reason']).where('customer_id', '=', customerId).orderBy('starts_on').execute(),
  ]);
  return {
    busyHours: busy.map((row) => ({ weekday: row.weekday, startMinute: row.start_minute, endMinute: row.end_minute })),
    protectedPeriods: periods.map((row) => ({ startsOn: String(row.starts_on), endsOn: String(row.ends_on), reason: row.reason })),
  };
}

/** What the workflow keeps of a finished attempt: the site's new status and the replaced parts still to come back. */
export interface ImplementationOutcome {
  status: RectificationSiteStatus;
  parts: { id: string; kept: boolean; dueAt: string | null; reminders: { date: string; at: string; workingDaysLeft: number; stillTrueUntil?: string }[] }[];
}

const iso = (value: Date | string): string => new Date(value).toISOString();

/** The first allowed slot, or null when the customer's rules leave none within the rule's search horizon. */
function firstSlotOrNull(rules: CustomerCalendarRules, earliestMs: number, durationMinutes: number, preferredMinute?: number) {
  try {
    return firstAllowedSlot(rules, earliestMs, durationMinutes, preferredMinute);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

export function createRectificationSiteActivities({ db, links, calendar, emailsQueued, logger }: RectificationSiteActivityDependencies) {
  const runStep = createCaseStepRunner<SiteRow, { siteId: string }>(
    { db, logger, emailsQueued },
    {
      process: 'rectification-site',
      load: (trx, campaignCaseId, options) => siteRow(trx, { campaignCaseId, siteId: options!.siteId }),
      caseId: (row) => row.campaign_case_id,
      caseNumber: (row) => row.campaign_number,
      contact: (row) => ({ email: row.contact_email, locale: row.contact_locale }),
    },
  );
  const step = <T>(ref: SiteRef, label: { step: string; actorRole: string; key: string }, plan: (row: SiteRow, trx: DbExecutor) => Promise<{ writes: StepWrite[]; emails?: StepEmail[]; result: T }>) =>
    runStep(ref.campaignCaseId, { ...label, key: `site/${ref.siteId}/${label.key}` }, plan, { siteId: ref.siteId });

  const siteUpdate = (trx: DbExecutor, ref: SiteRef, at: string, changes: Updateable<Database['rectification_sites']>) =>
    trx.updateTable('rectification_sites').set({ ...changes, updated_at: at }).where('campaign_case_id', '=', ref.campaignCaseId).where('site_id', '=', ref.siteId);
  const audit = (trx: DbExecutor, row: SiteRow, entry: { at: string; actor: string; role: string; action: string; key: string; comment?: string | null; data?: Record<string, unknown> }) =>
    auditEventInsert(trx, {
      caseId: row.campaign_case_id,
      occurredAt: entry.at,
      actor: entry.actor,
      actorRole: entry.role,
      action: `rectification_site.${entry.action}`,
      comment: entry.comment ?? null,
      data: { siteId: row.site_id, ...entry.data },
      idempotencyKey: `${row.campaign_number}/site/${row.site_id}/${entry.key}`,
    });
  /** The site's devices' status in rectification_devices: this site is their only writer while they are at it. */
  const devicesUpdate = (trx: DbExecutor, row: SiteRow, deviceIds: readonly string[], status: 'site_work' | 'rectified' | 'failed', at: string, onlyFrom?: readonly ('site_work' | 'failed')[]) => {
    let query = trx.updateTable('rectification_devices').set({ status, updated_at: at }).where('campaign_case_id', '=', row.campaign_case_id).where('device_id', 'in', [...deviceIds]);
    if (onlyFrom) query = query.where('status', 'in', [...onlyFrom]);
    return query;
  };

  /** A slot for the customer to confirm: the move recorded with its reason, and the customer emailed the confirmation link. */
  const slotWrites = (trx: DbExecutor, row: SiteRow, move: { seq: number; reason: SlotMoveReason; detail: string; startsAt: string; durationMinutes: number; previousStartsAt: string | null; by: ActorStamp; rdReviewDueAt: string | null }, at: string) => {
    const link = links.issue({ caseId: slotScope(row.campaign_case_id, row.site_id, move.seq), action: CONFIRM_SLOT_ACTION, singleUse: false, ttlHours: CONFIRM_SLOT_LINK_TTL_HOURS });
    const writes: StepWrite[] = [
      trx
        .insertInto('rectification_slot_moves')
        .values({
          campaign_case_id: row.campaign_case_id,
          site_id: row.site_id,
          seq: move.seq,
          reason: move.reason,
          detail: move.detail,
          starts_at: move.startsAt,
          duration_minutes: move.durationMinutes,
          previous_starts_at: move.previousStartsAt,
          moved_by: move.by.actor,
          moved_by_role: move.by.role,
          moved_at: move.by.at,
        })
        .onConflict((oc) => oc.columns(['campaign_case_id', 'site_id', 'seq']).doNothing()),
      siteUpdate(trx, { campaignCaseId: row.campaign_case_id, siteId: row.site_id }, at, { slot_starts_at: move.startsAt, slot_duration_minutes: move.durationMinutes, slot_confirmed_at: null, rd_review_due_at: move.rdReviewDueAt }),
      audit(trx, row, { at: move.by.at, actor: move.by.actor, role: move.by.role, action: `slot_${move.reason}`, key: `slot/${move.seq}`, comment: move.detail, data: { seq: move.seq, startsAt: move.startsAt, durationMinutes: move.durationMinutes, previousStartsAt: move.previousStartsAt } }),
    ];
    const emails: StepEmail[] = [
      {
        key: `site/${row.site_id}/slot/${move.seq}`,
        content: {
          template: 'rectification_site_slot_confirmation',
          params: { campaignNumber: row.campaign_number, siteName: row.site_name, customerName: row.contact_name, reason: move.reason, detail: move.detail, startsAt: move.startsAt, durationMinutes: move.durationMinutes, previousStartsAt: move.previousStartsAt, confirmUrl: link.url },
        },
      },
    ];
    return { writes, emails };
  };

  return {
    /**
     * The site's work order opens: its row (the customer's contact signs for it), its devices at site
     * work. Idempotent: a retried start finds the row and changes nothing twice.
     */
    async openRectificationSite(input: { site: RectificationSiteInput; workflowId: string; at: string }): Promise<{ contactId: string }> {
      const { site, at } = input;
      const contactId = await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('rectification_sites').select('contact_id').where('campaign_case_id', '=', site.campaignCaseId).where('site_id', '=', site.siteId).executeTakeFirst();
        if (existing) return existing.contact_id;
        // The technical contact signs plans and reports where the customer has one; otherwise their operations contact.
        const contact = await trx
          .selectFrom('contacts')
          .select('id')
          .where('customer_id', '=', site.customerId)
          .orderBy((eb) => eb.case().when('role', '=', 'technical').then(0).when('role', '=', 'operations').then(1).else(2).end())
          .orderBy('created_at')
          .executeTakeFirst();
        // Retried until the desk records a contact: the plan and the report need someone to sign them.
        if (!contact) throw ApplicationFailure.retryable(`customer ${site.customerId} has no contact to sign the site's plan and report`, 'NoCustomerContact');
        await trx
          .insertInto('rectification_sites')
          .values({
            campaign_case_id: site.campaignCaseId,
            site_id: site.siteId,
            campaign_number: site.campaignNumber,
            customer_id: site.customerId,
            contact_id: contact.id,
            workflow_id: input.workflowId,
            status: 'picking',
            high_risk: site.highRisk,
            device_ids: site.deviceIds,
            work_order_opened_at: at,
          })
          .execute();
        await trx.updateTable('rectification_devices').set({ status: 'site_work', updated_at: at }).where('campaign_case_id', '=', site.campaignCaseId).where('device_id', 'in', site.deviceIds).where('status', 'not in', ['rectified', 'declined']).execute();
        await auditEventInsert(trx, {
          caseId: site.campaignCaseId,
          occurredAt: at,
          actor: 'system',
          actorRole: 'system',
          action: 'rectification_site.work_order_opened',
          data: { siteId: site.siteId, deviceIds: site.deviceIds, highRisk: site.highRisk },
          idempotencyKey: `${site.campaignNumber}/site/${site.siteId}/work-order`,
        }).execute();
        return contact.id;
      });
      logger.info({ caseNumber: site.campaignNumber, siteId: site.siteId, step: 'work-order-opened', actorRole: 'system' }, `rectification site ${site.campaignNumber}/${site.siteId}: work order opened`);
      return { contactId };
    },

    /** Materials picked for the work order; the implementation plan document is created for its sign-off (reviews, then the customer's approval). */
    async recordRectificationMaterialsPicked(input: SiteRef & { pick: PickMaterials; plan: { documentId: string; steps: SignOffStep[] } }): Promise<RectificationSiteStatus> {
      const { pick, plan } = input;
      return step(input, { step: 'materials-picked', actorRole: pick.role, key: 'materials' }, async (row, trx) => ({
        writes: [
          { execute: () => insertDocument(trx, { id: plan.documentId, caseId: row.campaign_case_id, kind: 'implementation_plan', title: `Implementation plan, ${row.site_name}`, steps: plan.steps, contactId: row.contact_id, createdBy: pick.actor }) },
          siteUpdate(trx, input, pick.at, { status: 'planning', materials: JSON.stringify(pick.materials), materials_picked_at: pick.at, materials_picked_by: pick.actor, plan_document_id: plan.documentId }),
          audit(trx, row, { at: pick.at, actor: pick.actor, role: pick.role, action: 'materials_picked', key: 'materials', comment: pick.note, data: { materials: pick.materials, planDocumentId: plan.documentId } }),
        ],
        result: 'planning' as const,
      }));
    },

    /**
     * A slot proposed (or rescheduled) by the desk or the engineer: refused (422) naming the busy hours
     * or protected period it falls in, as the customer's master data says now. Failed devices go back
     * to site work. The customer is asked to confirm it.
     */
    async recordRectificationSlot(input: SiteRef & { proposal: ProposeSlot; seq: number; previousStartsAt: string | null; rdReviewDueAt: string | null; status: RectificationSiteStatus }): Promise<void> {
      const { proposal } = input;
      await step(input, { step: 'slot-proposed', actorRole: proposal.role, key: `slot/${input.seq}` }, async (row, trx) => {
        const rules = await customerCalendarRules(trx, row.customer_id);
        const conflict = slotConflict(rules, proposal);
        if (conflict) throw ruleViolation(`the slot ${proposal.startsAt} falls in ${describeSlotConflict(conflict)}`, { field: 'startsAt', conflict });
        const reason: SlotMoveReason = input.seq === 1 ? 'proposed' : 'rescheduled';
        const { writes, emails } = slotWrites(trx, row, { seq: input.seq, reason, detail: proposal.reason ?? '', startsAt: proposal.startsAt, durationMinutes: proposal.durationMinutes, previousStartsAt: input.previousStartsAt, by: proposal, rdReviewDueAt: input.rdReviewDueAt }, proposal.at);
        return {
          writes: [...writes, siteUpdate(trx, input, proposal.at, { status: input.status }), devicesUpdate(trx, row, row.device_ids, 'site_work', proposal.at, ['failed'])],
          emails,
          result: undefined,
        };
      });
    },

    /** The customer confirmed the slot (link page); with the plan signed the site is scheduled. */
    async recordRectificationSlotConfirmed(input: SiteRef & { stamp: ActorStamp; seq: number; status: RectificationSiteStatus }): Promise<void> {
      const { stamp } = input;
      await step(input, { step: 'slot-confirmed', actorRole: stamp.role, key: `slot/${input.seq}/confirmed` }, async (row, trx) => ({
        writes: [
          trx.updateTable('rectification_slot_moves').set({ confirmed_at: stamp.at, confirmed_by: stamp.actor }).where('campaign_case_id', '=', row.campaign_case_id).where('site_id', '=', row.site_id).where('seq', '=', input.seq).where('confirmed_at', 'is', null),
          siteUpdate(trx, input, stamp.at, { slot_confirmed_at: stamp.at, status: input.status }),
          audit(trx, row, { at: stamp.at, actor: stamp.actor, role: stamp.role, action: 'slot_confirmed', key: `slot/${input.seq}/confirmed`, data: { seq: input.seq } }),
        ],
        result: undefined,
      }));
    },

    /** The implementation plan passed every review and the customer approved it. */
    async recordRectificationPlanSigned(input: SiteRef & { version: number; at: string; status: RectificationSiteStatus }): Promise<void> {
      await step(input, { step: 'plan-signed', actorRole: 'customer', key: 'plan-signed' }, async (row, trx) => ({
        writes: [
          siteUpdate(trx, input, input.at, { plan_signed_version: input.version, plan_signed_at: input.at, status: input.status }),
          audit(trx, row, { at: input.at, actor: 'system', role: 'system', action: 'plan_signed', key: 'plan-signed', data: { documentId: row.plan_document_id, version: input.version } }),
        ],
        result: undefined,
      }));
    },

    /** The R&D review let the high-risk plan through in time (by slot - 3 days, or with no slot yet). */
    async recordRectificationRdReviewFinished(input: SiteRef & { finishedAt: string }): Promise<void> {
      await step(input, { step: 'rd-review-finished', actorRole: 'rd_reviewer', key: 'rd-review-finished' }, async (row, trx) => ({
        writes: [
          siteUpdate(trx, input, input.finishedAt, { rd_review_finished_at: input.finishedAt, rd_review_due_at: null }),
          audit(trx, row, { at: input.finishedAt, actor: 'system', role: 'system', action: 'rd_review_finished', key: 'rd-review-finished', data: { dueAt: row.rd_review_due_at ? iso(row.rd_review_due_at) : null } }),
        ],
        result: undefined,
      }));
    },

    /** Slot - 3 days passed without the R&D review: recorded; the desk and R&D reviewers are told the slot will move. */
    async recordRectificationRdReviewOverdue(input: SiteRef & { dueAt: string; slotStartsAt: string; at: string }): Promise<void> {
      await step(input, { step: 'rd-review-overdue', actorRole: 'system', key: `rd-review-overdue/${input.dueAt}` }, async (row, trx) => {
        const staff = await trx.selectFrom('users').select(['id', 'email']).where('role', 'in', ['service_desk', 'rd_reviewer']).where('disabled_at', 'is', null).orderBy('email').execute();
        return {
          writes: [
            siteUpdate(trx, input, input.at, { rd_review_overdue_at: input.at }),
            audit(trx, row, { at: input.at, actor: 'system', role: 'system', action: 'rd_review_overdue', key: `rd-review-overdue/${input.dueAt}`, data: { dueAt: input.dueAt, slotStartsAt: input.slotStartsAt } }),
          ],
          emails: staff.map((user) => ({
            key: `site/${row.site_id}/rd-review-overdue/${input.dueAt}/${user.id}`,
            content: { template: 'rectification_site_rd_review_overdue' as const, params: { campaignNumber: row.campaign_number, siteName: row.site_name, slotStartsAt: input.slotStartsAt, dueAt: input.dueAt } },
            to: { email: user.email, locale: 'zh-CN' as const },
          })),
          result: undefined,
        };
      });
    },

    /**
     * The R&D review finished after slot - 3 days: the slot moves to the first allowed slot (never in
     * busy hours or a protected period, as the master data says now) at least 3 days after the review
     * finished, at the old slot's time of day; recorded with its reason, and the customer asked to
     * confirm it. Computed here once: the workflow keeps the answer.
     */
    async moveRectificationSlotAfterLateReview(input: SiteRef & { finishedAt: string; previous: SiteSlot; seq: number }): Promise<{ startsAt: string; durationMinutes: number }> {
      const { previous } = input;
      return step(input, { step: 'slot-moved-rd-review-late', actorRole: 'system', key: `slot/${input.seq}` }, async (row, trx) => {
        const rules = await customerCalendarRules(trx, row.customer_id);
        const previousMs = Date.parse(previous.startsAt);
        const timeOfDay = Math.round((previousMs - shanghaiInstantMs(shanghaiDayNumber(previousMs), 0)) / MINUTE_MS);
        const earliestMs = Date.parse(input.finishedAt) + RD_REVIEW_LEAD_MS;
        const slot = firstSlotOrNull(rules, earliestMs, previous.durationMinutes, timeOfDay) ?? firstSlotOrNull(rules, earliestMs, previous.durationMinutes);
        // Retried (and logged) until the customer's master data leaves room for the work: the site waits for it.
        if (!slot) throw ApplicationFailure.retryable(`customer ${row.customer_id} has no slot of ${previous.durationMinutes} minutes free of busy hours and protected periods within two years`, 'NoRectificationSlot');
        const startsAt = iso(slot.startsAt);
        const detail = `R&D review finished ${input.finishedAt}, after its deadline ${new Date(previousMs - RD_REVIEW_LEAD_MS).toISOString()} (slot ${previous.startsAt} - 3 days)`;
        const by = { actor: 'system', role: 'system', at: input.finishedAt };
        const { writes, emails } = slotWrites(trx, row, { seq: input.seq, reason: 'rd_review_late', detail, startsAt, durationMinutes: slot.durationMinutes, previousStartsAt: previous.startsAt, by, rdReviewDueAt: null }, input.finishedAt);
        return {
          writes: [...writes, siteUpdate(trx, input, input.finishedAt, { rd_review_finished_at: input.finishedAt, status: 'planning' })],
          emails,
          result: { startsAt, durationMinutes: slot.durationMinutes },
        };
      });
    },

    async recordRectificationImplementationStarted(input: SiteRef & { stamp: ActorStamp; attempt: number; slotStartsAt: string }): Promise<void> {
      const { stamp } = input;
      await step(input, { step: 'implementation-started', actorRole: stamp.role, key: `attempt/${input.attempt}/started` }, async (row, trx) => ({
        writes: [
          trx
            .insertInto('rectification_site_attempts')
            .values({ campaign_case_id: row.campaign_case_id, site_id: row.site_id, attempt: input.attempt, slot_starts_at: input.slotStartsAt, started_at: stamp.at, started_by: stamp.actor })
            .onConflict((oc) => oc.columns(['campaign_case_id', 'site_id', 'attempt']).doNothing()),
          siteUpdate(trx, input, stamp.at, { status: 'in_progress', attempts: input.attempt }),
          audit(trx, row, { at: stamp.at, actor: stamp.actor, role: stamp.role, action: 'implementation_started', key: `attempt/${input.attempt}/started`, data: { attempt: input.attempt, slotStartsAt: input.slotStartsAt } }),
        ],
        result: undefined,
      }));
    },

    /**
     * The attempt's outcome. Failed: the rollback recorded, the devices failed, the slot given up (the
     * site stays open and is rescheduled), the customer told. Succeeded: the devices rectified, the
     * replaced parts recorded for their return (kept by the customer: due in 15 China working days
     * from the day of the work, computed once as spare part first computes it), the report document
     * created for the customer's signature.
     */
    async recordRectificationImplementationFinished(
      input: SiteRef & { finish: FinishImplementation; attempt: number; report: { documentId: string; steps: SignOffStep[] } | null; finishedAt: string },
    ): Promise<ImplementationOutcome> {
      const { finish } = input;
      const workingDays = await calendar();
      return step<ImplementationOutcome>(input, { step: finish.succeeded ? 'implementation-succeeded' : 'implementation-failed', actorRole: finish.role, key: `attempt/${input.attempt}/finished` }, async (row, trx) => {
        const attemptWrite = trx
          .updateTable('rectification_site_attempts')
          .set({ outcome: finish.succeeded ? 'succeeded' : 'failed', result: finish.result, rollback: finish.rollback, finished_at: finish.at, finished_by: finish.actor })
          .where('campaign_case_id', '=', row.campaign_case_id)
          .where('site_id', '=', row.site_id)
          .where('attempt', '=', input.attempt);
        const auditWrite = audit(trx, row, {
          at: finish.at,
          actor: finish.actor,
          role: finish.role,
          action: finish.succeeded ? 'implementation_succeeded' : 'implementation_failed',
          key: `attempt/${input.attempt}/finished`,
          comment: finish.result,
          data: { attempt: input.attempt, rollback: finish.rollback, replacedParts: finish.replacedParts },
        });
        if (!finish.succeeded) {
          return {
            writes: [attemptWrite, auditWrite, devicesUpdate(trx, row, row.device_ids, 'failed', finish.at, ['site_work']), siteUpdate(trx, input, finish.at, { status: 'planning', slot_starts_at: null, slot_duration_minutes: null, slot_confirmed_at: null, rd_review_due_at: null })],
            emails: [{ key: `site/${row.site_id}/attempt/${input.attempt}/failed`, content: { template: 'rectification_site_attempt_failed' as const, params: { campaignNumber: row.campaign_number, siteName: row.site_name, customerName: row.contact_name, result: finish.result, rollback: finish.rollback ?? '' } } }],
            result: { status: 'planning' as const, parts: [] },
          };
        }
        const report = input.report!;
        // Counted from the day the workflow recorded the work (its clock), like a spare part's receipt.
        const deadline = returnDeadline(workingDays, new Date(input.finishedAt));
        // A retried step finds the parts it inserted (unique by serial) and answers with the same ids.
        for (const part of finish.replacedParts) {
          const kept = part.disposition === 'kept_by_customer';
          await trx
            .insertInto('rectification_returned_parts')
            .values({
              campaign_case_id: row.campaign_case_id,
              site_id: row.site_id,
              device_id: part.deviceId,
              product_code: part.productCode,
              serial: part.serial,
              disposition: part.disposition,
              status: kept ? 'with_customer' : 'in_transit',
              return_due_date: kept ? deadline.dueDate : null,
              return_due_at: kept ? deadline.dueAt : null,
              return_reminders: kept ? JSON.stringify(deadline.reminders) : null,
            })
            .onConflict((oc) => oc.columns(['campaign_case_id', 'site_id', 'serial']).doNothing())
            .execute();
        }
        const parts = await trx
          .selectFrom('rectification_returned_parts')
          .select(['id', 'disposition', 'return_due_at', 'return_reminders', 'status'])
          .where('campaign_case_id', '=', row.campaign_case_id)
          .where('site_id', '=', row.site_id)
          .where('status', '<>', 'received')
          .orderBy('serial')
          .execute();
        return {
          writes: [
            attemptWrite,
            auditWrite,
            devicesUpdate(trx, row, row.device_ids, 'rectified', finish.at, ['site_work']),
            { execute: () => insertDocument(trx, { id: report.documentId, caseId: row.campaign_case_id, kind: 'rectification_report', title: `Rectification report, ${row.site_name}`, steps: report.steps, contactId: row.contact_id, createdBy: finish.actor }) },
            siteUpdate(trx, input, finish.at, { status: 'reporting', report_document_id: report.documentId }),
          ],
          result: {
            status: 'reporting' as const,
            parts: parts.map((part) => ({ id: part.id, kept: part.disposition === 'kept_by_customer', dueAt: part.return_due_at ? iso(part.return_due_at) : null, reminders: part.return_reminders ?? [] })),
          },
        };
      });
    },

    /** The customer signed the rectification report: on to the replaced parts' return, or archived when none is outstanding. */
    async recordRectificationReportSigned(input: SiteRef & { version: number; at: string; status: RectificationSiteStatus }): Promise<void> {
      await step(input, { step: 'report-signed', actorRole: 'customer', key: 'report-signed' }, async (row, trx) => ({
        writes: [
          siteUpdate(trx, input, input.at, { report_signed_at: input.at, status: input.status }),
          audit(trx, row, { at: input.at, actor: 'system', role: 'system', action: 'report_signed', key: 'report-signed', data: { documentId: row.report_document_id, version: input.version } }),
        ],
        result: undefined,
      }));
    },

    /** A replaced part arrived at our warehouse. */
    async recordRectificationPartReceived(input: SiteRef & { stamp: ActorStamp; partId: string; note: string | null }): Promise<void> {
      const { stamp } = input;
      await step(input, { step: 'part-received', actorRole: stamp.role, key: `part/${input.partId}/received` }, async (row, trx) => ({
        writes: [
          trx
            .updateTable('rectification_returned_parts')
            .set({ status: 'received', received_at: stamp.at, received_by: stamp.actor, receipt_note: input.note })
            .where('id', '=', input.partId)
            .where('campaign_case_id', '=', row.campaign_case_id)
            .where('site_id', '=', row.site_id)
            .where('status', '<>', 'received'),
          audit(trx, row, { at: stamp.at, actor: stamp.actor, role: stamp.role, action: 'part_received', key: `part/${input.partId}/received`, comment: input.note, data: { partId: input.partId } }),
        ],
        result: undefined,
      }));
    },

    /** A part the customer keeps: reminded on the spare-part schedule (5 and 1 working days before, on the day), then chased once overdue. */
    async recordRectificationPartChase(input: SiteRef & { partId: string; kind: 'reminder' | 'overdue'; workingDaysLeft: number; at: string }): Promise<void> {
      await step(input, { step: `part-${input.kind}`, actorRole: 'system', key: `part/${input.partId}/${input.kind}/${input.workingDaysLeft}` }, async (row, trx) => {
        const part = await trx.selectFrom('rectification_returned_parts').select(['serial', 'return_due_date', 'status']).where('id', '=', input.partId).executeTakeFirstOrThrow();
        if (part.status === 'received') return { writes: [], result: undefined };
        const params = { campaignNumber: row.campaign_number, siteName: row.site_name, customerName: row.contact_name, serial: part.serial, dueDate: String(part.return_due_date) };
        const key = `site/${row.site_id}/part/${input.partId}/${input.kind}/${input.workingDaysLeft}`;
        return {
          writes: [
            trx.updateTable('rectification_returned_parts').set(input.kind === 'overdue' ? { overdue_at: input.at } : { reminded_at: input.at }).where('id', '=', input.partId),
            audit(trx, row, { at: input.at, actor: 'system', role: 'system', action: `part_${input.kind}`, key: `part/${input.partId}/${input.kind}/${input.workingDaysLeft}`, data: { partId: input.partId, serial: part.serial } }),
          ],
          emails: [
            input.kind === 'overdue'
              ? { key, content: { template: 'rectification_part_return_overdue' as const, params } }
              : { key, content: { template: 'rectification_part_return_reminder' as const, params: { ...params, workingDaysLeft: input.workingDaysLeft } } },
          ],
          result: undefined,
        };
      });
    },

    /**
     * The customer refused the site work before it started, with proof: the devices not rectified are
     * declined with the evidence, the site closes as declined. The plan's sign-off is withdrawn by the workflow.
     */
    async recordRectificationSiteDeclined(input: SiteRef & { decline: DeclineSite }): Promise<void> {
      const { decline } = input;
      await step(input, { step: 'declined', actorRole: decline.role, key: 'declined' }, async (row, trx) => ({
        writes: [
          trx
            .updateTable('rectification_devices')
            .set({ status: 'declined', decline_evidence_ids: decline.evidenceIds, updated_at: decline.at })
            .where('campaign_case_id', '=', row.campaign_case_id)
            .where('device_id', 'in', row.device_ids)
            .where('status', 'in', ['site_work', 'failed']),
          siteUpdate(trx, input, decline.at, { status: 'declined', declined_at: decline.at, declined_by: decline.actor, decline_reason: decline.reason, decline_evidence_ids: decline.evidenceIds }),
          audit(trx, row, { at: decline.at, actor: decline.actor, role: decline.role, action: 'declined', key: 'declined', comment: decline.reason, data: { evidenceIds: decline.evidenceIds } }),
        ],
        result: undefined,
      }));
    },

    async archiveRectificationSite(input: SiteRef & { at: string }): Promise<void> {
      await step(input, { step: 'archived', actorRole: 'system', key: 'archived' }, async (row, trx) => ({
        writes: [
          siteUpdate(trx, input, input.at, { status: 'archived', archived_at: input.at }),
          audit(trx, row, { at: input.at, actor: 'system', role: 'system', action: 'archived', key: 'archived' }),
        ],
        result: undefined,
      }));
    },
  };
}
