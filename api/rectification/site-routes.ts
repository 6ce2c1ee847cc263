import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { sql } from 'kysely';
import { z } from 'zod';
import { CONFIRM_SLOT_ACTION, parseSlotScope } from '../../activities/rectification/site-activities';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import { siteWorkflowId } from '../../workflows/rectification/definitions';
import {
  PART_DISPOSITIONS,
  confirmRectificationSlotUpdate,
  declineRectificationSiteUpdate,
  finishRectificationImplementationUpdate,
  pickRectificationMaterialsUpdate,
  proposeRectificationSlotUpdate,
  receiveRectificationPartUpdate,
  startRectificationImplementationUpdate,
  type RectificationSiteState,
} from '../../workflows/rectification/site-definitions';
import { MAX_SLOT_MINUTES } from '../../workflows/rules/rectification-slots';
import { ApiError } from '../errors';
import type { Task, TaskSource } from '../me/tasks';
import { text, type LinkPage } from '../pages/link-page';
import { formatChinaTime } from '../pages/strings';
import type { ApiRoutes } from '../route';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { actorStamp as stamp, executeProcessUpdate, updateCase } from '../shared/process-updates';
import { INT4_MAX, isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { loadRectificationSite, rectificationSiteSchema, type RectificationSiteDto } from './site-read-model';

export interface RectificationSiteDependencies {
  db: Db;
  temporal: Client;
  clock: Clock;
}

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const ENGINEER: readonly UserRole[] = ['engineer', 'senior_engineer'];
const SCHEDULERS: readonly UserRole[] = ['service_desk', 'manager', 'engineer', 'senior_engineer'];
const ANY_USER: readonly UserRole[] = [];

const siteParams = z.object({
  number: z.string().regex(/^RC-\d{4}-\d{6}$/, 'must look like RC-2026-000007'),
  siteId: z.uuid(),
});

async function update<Arg>(deps: RectificationSiteDependencies, number: string, siteId: string, definition: UpdateDefinition<RectificationSiteState, [Arg]>, arg: Arg): Promise<RectificationSiteDto> {
  return updateCase(deps.temporal, () => loadRectificationSite(deps.db, number, siteId), siteWorkflowId(number, siteId), definition, arg);
}

export const replacedPartSchema = z.object({
  deviceId: z.uuid(),
  productCode: requiredText(64),
  serial: requiredText(64),
  disposition: z.enum(PART_DISPOSITIONS).meta({ description: 'taken_back: the engineer brings it back; kept_by_customer: due back in 15 China working days' }),
});

/** The steps of one site of a rectification campaign (P3), each with its role, and the site's read model. Registered in api/app.ts. */
export function registerRectificationSiteRoutes(routes: ApiRoutes, deps: RectificationSiteDependencies): void {
  const tag = 'Rectification sites';
  const base = '/rectification-campaigns/:number/sites/:siteId';
  const response = { schema: rectificationSiteSchema };
  const transitionErrors = [404, 409, 422];

  routes
    .add({
      method: 'get', path: base, tag, summary: "One site of a campaign: status, devices, work order, plan with its reviews, the R&D review's slot - 3 days deadline, the slot and every move with its reason, attempts, report, replaced parts", access: { roles: ANY_USER },
      params: siteParams, response, errors: [404],
      handler: async ({ params }) => loadRectificationSite(deps.db, params.number, params.siteId),
    })
    .add({
      method: 'post', path: `${base}/materials`, tag, summary: 'Record the materials picked for the work order; the implementation plan is created (submit it at POST /documents/{id}/versions from R&D\'s solution)', access: { roles: DESK },
      params: siteParams,
      body: z.object({ materials: z.array(z.object({ productCode: requiredText(64), quantity: z.number().int().min(1).max(INT4_MAX) })).min(1).max(100), note: optionalNote(2000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.number, params.siteId, pickRectificationMaterialsUpdate, { ...stamp(actor!, deps.clock), materials: body.materials, note: body.note }),
    })
    .add({
      method: 'post', path: `${base}/slot`, tag,
      summary: "Propose the slot (or reschedule it, with a reason): refused (422) when it falls in the customer's busy hours or a protected period, naming it; a high-risk plan whose R&D review is open needs it at least 3 days away. The customer is emailed a link to confirm it",
      access: { roles: SCHEDULERS },
      params: siteParams,
      body: z.object({
        startsAt: isoInstantField(),
        durationMinutes: z.number().int().min(15).max(MAX_SLOT_MINUTES),
        reason: optionalNote(2000).meta({ description: 'Why the slot changes; required when the site had a slot before' }),
      }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const site = await loadRectificationSite(deps.db, params.number, params.siteId);
        if (site.slotHistory.length > 0 && !body.reason) throw ApiError.validation([{ in: 'body', field: 'reason', message: 'is required to reschedule a site that had a slot' }]);
        return update(deps, params.number, params.siteId, proposeRectificationSlotUpdate, { ...stamp(actor!, deps.clock), startsAt: body.startsAt, durationMinutes: body.durationMinutes, reason: body.reason });
      },
    })
    .add({
      method: 'post', path: `${base}/implementation/start`, tag, summary: 'Start the implementation: only within the confirmed slot, with the plan signed (409 naming the slot otherwise)', access: { roles: ENGINEER },
      params: siteParams, body: z.object({}), response, errors: transitionErrors,
      handler: async ({ params, actor }) => update(deps, params.number, params.siteId, startRectificationImplementationUpdate, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'post', path: `${base}/implementation/finish`, tag,
      summary: 'Finish the implementation: succeeded (devices rectified, replaced parts recorded, the report created for the customer\'s signature) or failed (the rollback per the plan recorded, devices failed, the site rescheduled)',
      access: { roles: ENGINEER },
      params: siteParams,
      body: z
        .object({ succeeded: z.boolean(), result: requiredText(4000), rollback: optionalNote(4000), replacedParts: z.array(replacedPartSchema).max(500).default([]) })
        .refine((b) => b.succeeded || (b.rollback ?? '').trim() !== '', { message: 'a failed implementation needs the rollback carried out per the plan', path: ['rollback'] })
        .refine((b) => b.succeeded || b.replacedParts.length === 0, { message: 'a failed implementation is rolled back: it replaced no parts', path: ['replacedParts'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.number, params.siteId, finishRectificationImplementationUpdate, { ...stamp(actor!, deps.clock), succeeded: body.succeeded, result: body.result, rollback: body.rollback, replacedParts: body.replacedParts }),
    })
    .add({
      method: 'post', path: `${base}/decline`, tag,
      summary: "Record the customer's refusal of the site work before it starts, with its proof (evidence uploaded to the campaign's case): the site's devices are declined and the site closes",
      access: { roles: DESK },
      params: siteParams,
      body: z.object({ reason: requiredText(2000), evidenceIds: z.array(z.uuid()).min(1).max(30).meta({ description: "Evidence files on the campaign's case: the customer's notice, fax or memo" }) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const site = await deps.db.selectFrom('rectification_sites').select('campaign_case_id').where('campaign_number', '=', params.number).where('site_id', '=', params.siteId).executeTakeFirst();
        if (!site) throw ApiError.notFound('rectification site', `${params.number}/${params.siteId}`);
        const found = await deps.db.selectFrom('evidence_files').select('id').where('case_id', '=', site.campaign_case_id).where('id', 'in', body.evidenceIds).execute();
        const missing = body.evidenceIds.findIndex((id) => !found.some((file) => file.id === id));
        if (missing >= 0) throw ApiError.validation([{ in: 'body', field: `evidenceIds.${missing}`, message: "is not an evidence file of this campaign's case" }]);
        return update(deps, params.number, params.siteId, declineRectificationSiteUpdate, { ...stamp(actor!, deps.clock), reason: body.reason, evidenceIds: body.evidenceIds });
      },
    })
    .add({
      method: 'post', path: `${base}/parts/:partId/receipt`, tag, summary: 'Record a replaced part as received at our warehouse; with the report signed and every part back, the site is archived', access: { roles: DESK },
      params: siteParams.extend({ partId: z.uuid() }), body: z.object({ note: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.number, params.siteId, receiveRectificationPartUpdate, { ...stamp(actor!, deps.clock), partId: params.partId, note: body.note }),
    });
}

async function siteOfLink(db: Db, scope: string) {
  const parsed = parseSlotScope(scope);
  const row = parsed
    ? await db
        .selectFrom('rectification_sites as r')
        .innerJoin('sites as s', 's.id', 'r.site_id')
        .innerJoin('contacts as k', 'k.id', 'r.contact_id')
        .select(['r.campaign_number', 'r.site_id', 's.name as site_name', 'k.name as contact_name', 'k.locale'])
        .where('r.campaign_case_id', '=', parsed.campaignCaseId)
        .where('r.site_id', '=', parsed.siteId)
        .executeTakeFirst()
    : undefined;
  if (!parsed || !row) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no rectification site for the link' });
  return { ...row, seq: parsed.seq };
}

/** The customer confirms a slot (first proposal, rescheduling, or a move after a late R&D review) from the emailed link. Registered in api/app.ts. */
export function rectificationSiteLinkActions(deps: RectificationSiteDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: CONFIRM_SLOT_ACTION,
      summary: 'Confirm the slot of the rectification work at a site',
      body: z.object({ confirmation: z.literal('confirmed') }),
      page: slotPage(deps),
      perform: async ({ claims }) => {
        const site = await siteOfLink(deps.db, claims.caseId);
        await executeProcessUpdate(deps.temporal, siteWorkflowId(site.campaign_number, site.site_id), confirmRectificationSlotUpdate, {
          actor: site.contact_name,
          role: 'customer',
          at: deps.clock.now().toISOString(),
          seq: site.seq,
        });
        const after = await loadRectificationSite(deps.db, site.campaign_number, site.site_id);
        return { campaignNumber: site.campaign_number, siteName: after.siteName, startsAt: after.slot?.startsAt ?? null };
      },
    }),
  ];
}

function slotPage(deps: RectificationSiteDependencies): LinkPage {
  return {
    title: text('Confirm the rectification slot', '确认整改时间'),
    submitLabel: text('Confirm this slot', '确认此时间'),
    fields: [{ name: 'confirmation', kind: 'choice', required: true, label: text('Your answer', '您的答复'), choices: [{ value: 'confirmed', label: text('I confirm this slot', '我确认此时间') }] }],
    async describe(claims) {
      const site = await siteOfLink(deps.db, claims.caseId);
      const detail = await loadRectificationSite(deps.db, site.campaign_number, site.site_id);
      const move = detail.slotHistory.find((candidate) => candidate.seq === site.seq);
      const base = { locale: site.locale, recipientName: site.contact_name };
      const when = (iso: string) => ({ en: `${formatChinaTime(new Date(iso), 'en')} (China time)`, 'zh-CN': `${formatChinaTime(new Date(iso), 'zh-CN')}（北京时间）` });
      const facts = [
        { label: text('Campaign', '整改批次'), value: site.campaign_number },
        { label: text('Site', '站点'), value: site.site_name },
        ...(move ? [{ label: text('Slot', '时间窗口'), value: when(move.startsAt) }, { label: text('Duration', '时长'), value: text(`${move.durationMinutes} minutes`, `${move.durationMinutes} 分钟`) }] : []),
        ...(move?.previousStartsAt ? [{ label: text('Was', '原时间'), value: when(move.previousStartsAt) }] : []),
        ...(move?.detail ? [{ label: text('Why', '原因'), value: move.detail }] : []),
      ];
      if (!move || (detail.slot && detail.slot.seq !== move.seq) || !detail.slot) {
        return { ...base, kind: 'closed', message: text('This slot was replaced: the newer one was emailed to you.', '此时间已被更新，新的时间已通过邮件发送给您。'), facts };
      }
      if (move.confirmedAt) {
        return { ...base, kind: 'closed', message: text(`You confirmed this slot on ${formatChinaTime(new Date(move.confirmedAt), 'en')} (China time). Thank you.`, `您已于 ${formatChinaTime(new Date(move.confirmedAt), 'zh-CN')}（北京时间）确认此时间，谢谢。`), facts };
      }
      return { ...base, kind: 'form', intro: text('Please confirm the slot for the rectification work at your site. It avoids your busy hours and protected periods.', '请确认贵方站点整改工作的时间。该时间已避开贵方业务繁忙时段和保障期。'), facts };
    },
    done(result) {
      return {
        message: text('Thank you: the slot is confirmed.', '谢谢，时间已确认。'),
        facts: [
          { label: text('Campaign', '整改批次'), value: String(result.campaignNumber) },
          { label: text('Site', '站点'), value: String(result.siteName) },
        ],
      };
    },
  };
}

/**
 * The site's part of GET /me/tasks: R&D reviewers' open reviews of high-risk plans with their slot -
 * 3 days deadline, materials to pick and slots to propose (desk), work to do in a confirmed slot
 * (engineers), replaced parts to receive (desk).
 */
export const rectificationSiteTasks: TaskSource = async (db, actor) => {
  const rows = await db
    .selectFrom('rectification_sites as r')
    .innerJoin('sites as s', 's.id', 'r.site_id')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .select([
      'r.campaign_number',
      'r.site_id',
      'r.status',
      'r.high_risk',
      'r.plan_document_id',
      'r.rd_review_due_at',
      'r.rd_review_finished_at',
      'r.slot_starts_at',
      'r.slot_confirmed_at',
      'r.plan_signed_at',
      'r.updated_at',
      's.name as site_name',
      'c.name as customer_name',
      sql<number>`(select count(*) from rectification_returned_parts p where p.campaign_case_id = r.campaign_case_id and p.site_id = r.site_id and p.status <> 'received')::int`.as('parts_outstanding'),
      sql<string | null>`(select min(p.return_due_at) from rectification_returned_parts p where p.campaign_case_id = r.campaign_case_id and p.site_id = r.site_id and p.status <> 'received')`.as('parts_due_at'),
      sql<string | null>`(select d.step from document_decisions d where d.document_id = r.plan_document_id and d.version = (select max(v.version) from document_versions v where v.document_id = r.plan_document_id) order by d.decided_at desc limit 1)`.as('last_plan_step'),
      sql<string | null>`(select d.decision from document_decisions d where d.document_id = r.plan_document_id and d.version = (select max(v.version) from document_versions v where v.document_id = r.plan_document_id) order by d.decided_at desc limit 1)`.as('last_plan_decision'),
    ])
    .where('r.status', 'not in', ['archived', 'declined'])
    .execute();
  const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
  const tasks: Task[] = [];
  for (const row of rows) {
    const task = (kind: Task['kind'], what: string, dueAt: string | null): Task => ({
      kind,
      process: 'rectification_site',
      caseNumber: row.campaign_number,
      title: `${what}: ${row.site_name} (${row.customer_name}), ${row.campaign_number}`,
      waitingSince: new Date(row.updated_at).toISOString(),
      dueAt,
      href: `/rectification-campaigns/${row.campaign_number}/sites/${row.site_id}`,
    });
    // R&D's turn: the latest version passed the technical review and nothing came after it.
    const rdTurn = row.high_risk && row.rd_review_finished_at === null && row.last_plan_step === 'technical_review' && row.last_plan_decision === 'approved';
    if (rdTurn && actor.role === 'rd_reviewer') tasks.push(task('review_rectification_plan', 'R&D review of the high-risk implementation plan', iso(row.rd_review_due_at)));
    if (row.status === 'picking' && DESK.includes(actor.role)) tasks.push(task('pick_rectification_materials', 'Pick the materials of the work order', null));
    if (row.status === 'planning' && row.slot_starts_at === null && SCHEDULERS.includes(actor.role)) tasks.push(task('propose_rectification_slot', 'Propose a slot', null));
    if (row.status === 'scheduled' && ENGINEER.includes(actor.role)) tasks.push(task('implement_rectification', 'Implement the rectification in its slot', iso(row.slot_starts_at)));
    if (row.parts_outstanding > 0 && DESK.includes(actor.role)) tasks.push(task('receive_rectification_parts', `Receive ${row.parts_outstanding} replaced part(s)`, iso(row.parts_due_at)));
  }
  return tasks;
};
