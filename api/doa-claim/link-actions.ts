import { z } from 'zod';
import { DOA_CONFIRM_RECEIPT_ACTION, DOA_CONVERSION_ACTION, DOA_EVIDENCE_ACTION, DOA_EVIDENCE_ITEMS } from '../../activities/doa-claim/activities';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { SignedLinkClaims, SignedLinks } from '../../activities/shared/signed-links';
import type { UserRole } from '../../db/schema';
import { answerDoaConversionUpdate, confirmDoaReceiptUpdate } from '../../workflows/doa-claim/definitions';
import { ApiError } from '../errors';
import { text, type LinkPage, type PageFact } from '../pages/link-page';
import { formatChinaTime, formatDate } from '../pages/strings';
import type { ApiRoutes } from '../route';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { contactLinkResponse, contactOfLink, emailContactLink } from '../shared/contact-links';
import { chinaTimeOrInstantField, isoDateField, optionalNote, requiredText } from '../shared/schemas';
import { loadDoaClaim, type DoaClaimDto } from './read-model';
import { registerDoaClaim, type DoaClaimDependencies } from './registration';
import { update } from './routes';

// The end user's side of a DOA claim: the application (a single-use link emailed to a contact before
// any case exists), the evidence page (upload; tell the desk it is complete), the receipt of the new
// unit, and the answer to the offer of an RMA repair.

export const DOA_APPLY_ACTION = 'doa.apply';
const APPLICATION_LINK_TTL_HOURS = 24 * 14;
const DESK: readonly UserRole[] = ['service_desk', 'manager'];
/** Application links are issued to a contact: their subject names the contact. */
const contactScope = (contactId: string) => `doa-application:contact:${contactId}`;

type DoaLinkDependencies = DoaClaimDependencies & { links: SignedLinks };

/** What the end user states on the application page: the dates from the pickers are China time. */
const customerApplicationSchema = z.object({
  deviceSerial: requiredText(64),
  arrivedOn: isoDateField(),
  firstPowerOnAt: chinaTimeOrInstantField(),
  failedAt: chinaTimeOrInstantField(),
  symptoms: requiredText(4000),
});

const contactOfApplicationLink = (deps: DoaLinkDependencies, subject: string) => contactOfLink(deps.db, contactScope, subject);

/** The claim a case link belongs to, with its contact (the link's holder). */
async function claimOfLink(deps: DoaLinkDependencies, claims: SignedLinkClaims) {
  const row = z.uuid().safeParse(claims.caseId).success
    ? await deps.db
        .selectFrom('doa_claims as a')
        .innerJoin('contacts as k', 'k.id', 'a.contact_id')
        .select(['a.case_number', 'k.name', 'k.locale'])
        .where('a.case_id', '=', claims.caseId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no DOA claim for the case' });
  return { contact: { name: row.name, locale: row.locale }, claim: await loadDoaClaim(deps.db, row.case_number, false) };
}

/** An instant as China time in each language. */
const chinaTime = (iso: string) => text(formatChinaTime(new Date(iso), 'en'), formatChinaTime(new Date(iso), 'zh-CN'));
const calendarDate = (isoDate: string) => text(formatDate(isoDate, 'en'), formatDate(isoDate, 'zh-CN'));

const claimFacts = (claim: DoaClaimDto): PageFact[] => [
  { label: text('DOA claim', 'DOA 申请'), value: claim.caseNumber },
  { label: text('Device', '设备'), value: claim.device.serial },
  { label: text('Arrived on', '到货日期'), value: calendarDate(claim.arrivedOn) },
  { label: text('Failed at', '故障时间'), value: chinaTime(claim.failedAt) },
];

const closedView = (locale: 'en' | 'zh-CN', claim: DoaClaimDto, message: ReturnType<typeof text>) => ({ kind: 'closed' as const, locale, message, facts: claimFacts(claim) });

function applicationPage(deps: DoaLinkDependencies): LinkPage {
  return {
    title: text('Apply for DOA (dead on arrival)', 'DOA（到货即损）申请'),
    submitLabel: text('Send the application', '提交申请'),
    fields: [
      { name: 'deviceSerial', kind: 'text', required: true, maxLength: 64, label: text('Serial number of the unit', '设备序列号'), hint: text('As printed on the device label.', '见设备铭牌。') },
      { name: 'arrivedOn', kind: 'date', required: true, label: text('Date the unit arrived', '到货日期') },
      { name: 'firstPowerOnAt', kind: 'datetime', required: true, label: text('First powered on (China time)', '首次上电时间（北京时间）') },
      { name: 'failedAt', kind: 'datetime', required: true, label: text('When it failed (China time)', '故障时间（北京时间）'), hint: text('The first power-on itself if it never worked.', '如首次上电即故障，填写首次上电时间。') },
      { name: 'symptoms', kind: 'textarea', required: true, maxLength: 4000, label: text('What happens (symptoms, alarms, indicators)', '故障现象（告警、指示灯等）') },
    ],
    async describe(claims) {
      const contact = await contactOfApplicationLink(deps, claims.caseId);
      return {
        kind: 'form',
        locale: contact.locale,
        recipientName: contact.name,
        intro: text(
          'A unit that fails at its first power-on or within 48 hours of running, with no visible damage, is replaced with a new one when every DOA condition holds. After this form you get a link to upload the application form and photos.',
          '设备首次上电即故障或运行48小时内出现故障且无外观损伤，并满足全部 DOA 条件的，将更换新设备。提交后您将收到上传申请表和照片的链接。',
        ),
        facts: [{ label: text('Customer', '客户'), value: contact.customer_name }],
      };
    },
    done(result) {
      return {
        message: text('Thank you: the DOA claim is registered. We have emailed you the link to upload the evidence.', '谢谢，DOA 申请已登记。我们已通过邮件发送上传证据的链接。'),
        facts: [{ label: text('DOA claim', 'DOA 申请'), value: typeof result.caseNumber === 'string' ? result.caseNumber : '' }],
      };
    },
  };
}

function evidencePage(deps: DoaLinkDependencies): LinkPage {
  return {
    title: text('Evidence for your DOA claim', 'DOA 申请证据'),
    submitLabel: text('Tell us the evidence is complete', '通知我们证据已齐全'),
    fields: [{ name: 'note', kind: 'textarea', required: false, maxLength: 2000, label: text('Anything we should know about the evidence', '关于证据的补充说明') }],
    async describe(claims) {
      const { contact, claim } = await claimOfLink(deps, claims);
      if (claim.status !== 'assessment') return closedView(contact.locale, claim, text('The claim has been assessed; no more evidence is needed.', '申请已完成评估，无需再提交证据。'));
      return {
        kind: 'form',
        locale: contact.locale,
        recipientName: contact.name,
        intro: text(
          'Upload the application form and the photos below (JPEG, PNG, WebP or PDF, up to 10 MB each). We check every DOA condition against them.',
          '请在下方上传申请表和照片（JPEG、PNG、WebP 或 PDF，每个不超过 10 MB），我们将据此逐项核对 DOA 条件。',
        ),
        facts: claimFacts(claim),
        evidence: { items: DOA_EVIDENCE_ITEMS.map((item) => ({ value: item.en, label: text(item.en, item.zh) })) },
      };
    },
    done() {
      return { message: text('Thank you: the desk checks your evidence and emails you the decision.', '谢谢，服务台将核对证据并通过邮件通知您结果。'), facts: [] };
    },
  };
}

function receiptPage(deps: DoaLinkDependencies): LinkPage {
  return {
    title: text('Confirm receipt of the new unit', '确认收到新设备'),
    submitLabel: text('I have received it', '确认收货'),
    fields: [],
    async describe(claims) {
      const { contact, claim } = await claimOfLink(deps, claims);
      const facts = [...claimFacts(claim), { label: text('New unit', '新设备'), value: claim.replacement?.serial ?? '' }, { label: text('Tracking number', '运单号'), value: claim.replacement?.trackingNumber ?? '' }];
      if (claim.status !== 'replacement_delivery') return closedView(contact.locale, claim, text('The receipt is already recorded.', '已登记收货。'));
      return { kind: 'form', locale: contact.locale, recipientName: contact.name, intro: text('Please confirm that the new unit has arrived.', '请确认新设备已送达。'), facts };
    },
    done(result) {
      return { message: text('Thank you: the new unit is now in your installed base with its warranty.', '谢谢，新设备已登记入您的设备清单并享有保修。'), facts: [{ label: text('Warranty until', '保修至'), value: typeof result.warrantyEnd === 'string' ? calendarDate(result.warrantyEnd) : '' }] };
    },
  };
}

function conversionPage(deps: DoaLinkDependencies): LinkPage {
  return {
    title: text('Repair the unit under RMA?', '是否转为 RMA 返修？'),
    submitLabel: text('Send my answer', '提交答复'),
    fields: [
      {
        name: 'accept', kind: 'choice', required: true, label: text('Your answer', '您的答复'),
        choices: [
          { value: 'true', label: text('Yes: repair it under RMA', '是：按 RMA 返修') },
          { value: 'false', label: text('No, thank you', '否') },
        ],
      },
    ],
    async describe(claims) {
      const { contact, claim } = await claimOfLink(deps, claims);
      if (claim.status !== 'conversion_offered') return closedView(contact.locale, claim, text('This offer has already been answered or has expired.', '该提议已答复或已过期。'));
      return {
        kind: 'form',
        locale: contact.locale,
        recipientName: contact.name,
        intro: text('Your DOA claim was not accepted (the reasons are in our email). We can repair the unit under an RMA instead.', '您的 DOA 申请未获受理（原因见邮件）。我们可以按 RMA 流程为您维修该设备。'),
        facts: [...claimFacts(claim), ...(claim.decision?.failedConditions ?? []).map((condition) => ({ label: text('Reason', '原因'), value: text(condition.en, condition.zh) }))],
        notes: claim.conversion?.offerEndsAt ? [text(`The offer stands until ${chinaTime(claim.conversion.offerEndsAt).en}.`, `该提议有效期至 ${chinaTime(claim.conversion.offerEndsAt)['zh-CN']}。`)] : [],
      };
    },
    done(result) {
      return typeof result.rmaCaseNumber === 'string'
        ? { message: text('Thank you: the RMA repair is opened. We email you where to send the unit.', '谢谢，RMA 返修已开立。我们将通过邮件告知寄回地址。'), facts: [{ label: text('RMA', 'RMA 编号'), value: result.rmaCaseNumber }] }
        : { message: text('Thank you: the claim is closed.', '谢谢，申请已关闭。'), facts: [] };
    },
  };
}

/** The DOA claim's customer link actions. Registered in api/app.ts. */
export function doaClaimLinkActions(deps: DoaLinkDependencies): LinkAction[] {
  const customerStamp = (name: string) => ({ actor: name, role: 'customer', at: deps.clock.now().toISOString() });
  return [
    defineLinkAction({
      action: DOA_APPLY_ACTION,
      summary: 'Apply for DOA on a unit of the installed base (serial, arrival, first power-on, failure and symptoms)',
      body: customerApplicationSchema,
      page: applicationPage(deps),
      perform: async ({ claims, body }) => {
        const contact = await contactOfApplicationLink(deps, claims.caseId);
        const claim = await registerDoaClaim(deps, { ...body, customerId: contact.customer_id, contactId: contact.id, appliedByEndUser: true }, customerStamp(contact.name));
        return { caseNumber: claim.caseNumber, status: claim.status };
      },
    }),
    defineLinkAction({
      action: DOA_EVIDENCE_ACTION,
      summary: "Upload the claim's evidence and tell the desk it is complete",
      body: z.object({ note: optionalNote(2000) }),
      page: evidencePage(deps),
      evidence: { uploader: async (claims) => (await claimOfLink(deps, claims)).contact.name },
      perform: async ({ claims, body }) => {
        const { contact, claim } = await claimOfLink(deps, claims);
        if (claim.status !== 'assessment') throw ApiError.conflict('claim_assessed', `DOA claim ${claim.caseNumber} has been assessed; no more evidence is needed`);
        const stamp = customerStamp(contact.name);
        await appendAuditEvent(deps.db, {
          caseId: claim.caseId,
          occurredAt: stamp.at,
          actor: stamp.actor,
          actorRole: stamp.role,
          action: 'doa_claim.evidence_submitted',
          comment: body.note,
          data: { files: claim.evidence.length },
          idempotencyKey: `${claim.caseNumber}/evidence-submitted/${stamp.at}`,
        });
        return { caseNumber: claim.caseNumber, evidenceFiles: claim.evidence.length };
      },
    }),
    defineLinkAction({
      action: DOA_CONFIRM_RECEIPT_ACTION,
      summary: 'Confirm that the new unit replacing a DOA unit arrived',
      body: z.object({}),
      page: receiptPage(deps),
      perform: async ({ claims }) => {
        const { contact, claim } = await claimOfLink(deps, claims);
        const after = await update(deps, claim.caseNumber, confirmDoaReceiptUpdate, customerStamp(contact.name));
        return { caseNumber: after.caseNumber, status: after.status, warrantyEnd: after.replacement?.warrantyEnd ?? null };
      },
    }),
    defineLinkAction({
      action: DOA_CONVERSION_ACTION,
      summary: 'Accept or decline the offer to repair a rejected DOA unit under RMA',
      body: z.object({ accept: z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]) }),
      page: conversionPage(deps),
      perform: async ({ claims, body }) => {
        const { contact, claim } = await claimOfLink(deps, claims);
        const after = await update(deps, claim.caseNumber, answerDoaConversionUpdate, { ...customerStamp(contact.name), accept: body.accept });
        return { caseNumber: after.caseNumber, status: after.status, rmaCaseNumber: after.conversion?.rmaCaseNumber ?? null };
      },
    }),
  ];
}

/** POST /doa-claims/application-links: the desk emails a contact a single-use link to apply for DOA themselves. */
export function registerDoaApplicationLinkRoutes(routes: ApiRoutes, deps: DoaLinkDependencies): void {
  routes.add({
    method: 'post', path: '/doa-claims/application-links', tag: 'DOA claims', summary: 'Email an end-user contact a single-use link to apply for DOA themselves (queued, sent by the outbox relay)', access: { roles: DESK },
    body: z.object({ contactId: z.uuid() }),
    response: { status: 201, schema: contactLinkResponse },
    handler: async ({ body }) =>
      emailContactLink(deps, {
        contactId: body.contactId,
        subject: contactScope,
        action: DOA_APPLY_ACTION,
        ttlHours: APPLICATION_LINK_TTL_HOURS,
        keyPrefix: 'doa-claim/application-link',
        email: ({ customerName, url, expiresOn }) => ({ template: 'doa_claim_application_link', params: { customerName, applyUrl: url, expiresOn } }),
      }),
  });
}
