import { z } from 'zod';
import { GOODS_CLAIM_EVIDENCE_ACTION, identifiersOf } from '../../activities/goods-claim/activities';
import type { Db } from '../../db';
import { GOODS_CLAIM_FINAL_STATUSES, provideGoodsClaimIdentifiersUpdate, type GoodsClaimStatus } from '../../workflows/goods-claim/definitions';
import { fileItemsOf, missingEvidence, provisionOf } from '../../workflows/goods-claim/evidence';
import { ApiError } from '../errors';
import { text, type LinkPage, type PageFact, type Text } from '../pages/link-page';
import { formatDate } from '../pages/strings';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { INT4_MAX, textField } from '../shared/schemas';
import type { GoodsClaimDependencies } from './registration';
import { updateGoodsClaim } from './routes';

/** Optional text of a page field: an empty one is left out of the body. */
const optionalIdentifier = (max: number) => textField({ min: 1, max }).optional();

/** The identifiers a customer adds on the claim's page; a form sends the quantity as text. */
export const customerIdentifiersSchema = z
  .object({
    packingListNumber: optionalIdentifier(100),
    boxNumber: optionalIdentifier(100),
    materialCode: optionalIdentifier(100),
    quantity: z.coerce.number({ error: `must be a whole number from 1 to ${INT4_MAX}` }).int().min(1).max(INT4_MAX).optional(),
    contractAndOrderNumber: optionalIdentifier(200),
  })
  .refine((identifiers) => Object.values(identifiers).some((value) => value !== undefined), { message: 'fill in at least one of the numbers' });

const KIND_WORDS = {
  transport_damage: text('transport damage', '货损'),
  wrong_missing_extra: text('wrong, missing or extra goods', '差错货（少货、错货、多货）'),
} as const;

async function claimOfLink(db: Db, caseId: string) {
  const row = z.uuid().safeParse(caseId).success
    ? await db
        .selectFrom('goods_claims as g')
        .innerJoin('contacts as k', 'k.id', 'g.contact_id')
        .selectAll('g')
        .select(['k.name as contact_name', 'k.locale'])
        .where('g.case_id', '=', caseId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no goods claim for the case' });
  return row;
}

/** A missing item as a note of its own, in each language. */
const missingNote = (item: string): Text => text(`• ${provisionOf(item).label.en}`, `• ${provisionOf(item).label['zh-CN']}`);

/** Goods claims' customer link: the claim's page, where the customer adds the identifiers and files still missing. Registered in api/app.ts. */
export function goodsClaimLinkActions(deps: GoodsClaimDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: GOODS_CLAIM_EVIDENCE_ACTION,
      summary: 'Add the identifiers a goods claim still lacks (packing list, box, material code, quantity, contract and order); its files go to POST /links/{token}/evidence',
      body: customerIdentifiersSchema,
      page: claimPage(deps),
      // The customer uploads the files the claim still lacks through /links/:token/evidence, from the page's widget.
      evidence: { uploader: async (claims) => (await claimOfLink(deps.db, claims.caseId)).contact_name },
      perform: async ({ claims, body }) => {
        const claim = await claimOfLink(deps.db, claims.caseId);
        const result = await updateGoodsClaim(deps, claim.claim_number, provideGoodsClaimIdentifiersUpdate, {
          actor: claim.contact_name,
          role: 'customer',
          at: deps.clock.now().toISOString(),
          identifiers: body,
        });
        return { claimNumber: result.claimNumber, status: result.status, missing: result.evidence.missing };
      },
    }),
  ];
}

const field = (name: string, en: string, zh: string, max: number, hint?: Text) => ({ name, kind: 'text' as const, required: false, maxLength: max, label: text(en, zh), ...(hint ? { hint } : {}) });

function claimPage(deps: GoodsClaimDependencies): LinkPage {
  return {
    title: text('Your goods claim', '货物问题申报'),
    submitLabel: text('Save the numbers', '保存编号信息'),
    fields: [
      field('packingListNumber', 'Packing list number', '装箱单号', 100),
      field('boxNumber', 'Box number (damaged, lost or wrong goods)', '箱号（货损、丢货或差错货）', 100),
      field('materialCode', 'Material code', '物料编码', 100),
      field('quantity', 'Quantity', '数量', 10),
      field('contractAndOrderNumber', 'Sales contract and order number', '销售合同及订单号', 200, text('Wrong, missing or extra goods only.', '仅差错货申报需要填写。')),
    ],
    async describe(claims) {
      const claim = await claimOfLink(deps.db, claims.caseId);
      const files = await deps.db.selectFrom('evidence_files').select('item').where('case_id', '=', claim.case_id).execute();
      const identifiers = identifiersOf(claim.identifiers);
      const missing = missingEvidence(claim.kind, { identifiers, deviceSerials: claim.device_serials, fileItems: files.map((file) => file.item) });
      const facts: PageFact[] = [
        { label: text('Claim number', '申报编号'), value: claim.claim_number },
        { label: text('Kind', '类型'), value: KIND_WORDS[claim.kind] },
        { label: text('Arrived on', '到货日期'), value: text(formatDate(claim.arrived_on, 'en'), formatDate(claim.arrived_on, 'zh-CN')) },
        { label: text('Last day of the claim window', '申报期限最后一天'), value: text(formatDate(claim.window_last_day, 'en'), formatDate(claim.window_last_day, 'zh-CN')) },
        { label: text('Devices', '设备序列号'), value: claim.device_serials.join(', ') },
      ];
      const status = claim.status as GoodsClaimStatus;
      if (GOODS_CLAIM_FINAL_STATUSES.includes(status) || status === 'resolution') {
        const message =
          status === 'resolution'
            ? text('We have everything the rules require; the claim is being reviewed and we will email you the outcome.', '申报资料已齐全，我们正在处理，处理结果将通过邮件通知您。')
            : status === 'lapsed'
              ? text('This claim lapsed: its window ended before the evidence was complete.', '此申报已失效：申报期限结束时资料仍未补齐。')
              : text('This claim is closed; we emailed you the outcome.', '此申报已处理完毕，处理结果已通过邮件通知您。');
        return { kind: 'closed', locale: claim.locale, recipientName: claim.contact_name, message, facts };
      }
      const values: Record<string, string> = {};
      for (const [name, value] of Object.entries(identifiers)) values[name] = String(value);
      return {
        kind: 'form',
        locale: claim.locale,
        recipientName: claim.contact_name,
        intro: text(
          `Your ${KIND_WORDS[claim.kind].en} claim ${claim.claim_number} needs the evidence below. Fill in the numbers here and upload the files; the claim goes on as soon as it is complete.`,
          `您的${KIND_WORDS[claim.kind]['zh-CN']}申报 ${claim.claim_number} 还需要以下资料。请在此填写编号信息并上传文件，资料齐全后即进入处理。`,
        ),
        facts,
        notes: missing.length > 0 ? [text('Still missing:', '尚缺资料：'), ...missing.map(missingNote)] : [],
        values,
        // The upload widget offers the kind's file evidence, what is still missing first.
        evidence: {
          items: [...fileItemsOf(claim.kind)]
            .sort((a, b) => Number(!missing.includes(a)) - Number(!missing.includes(b)))
            .map((item) => ({ value: item, label: text(provisionOf(item).label.en, provisionOf(item).label['zh-CN']) })),
        },
      };
    },
    done(result) {
      const claimNumber = String(result.claimNumber);
      const missing = Array.isArray(result.missing) ? (result.missing as string[]) : [];
      return {
        message:
          missing.length === 0
            ? text(`Thank you: claim ${claimNumber} is complete and goes to review. We will email you the outcome.`, `谢谢，申报 ${claimNumber} 资料已齐全，进入处理。处理结果将通过邮件通知您。`)
            : text(`Thank you: the numbers of claim ${claimNumber} are saved. Still missing:`, `谢谢，申报 ${claimNumber} 的编号信息已保存。尚缺资料：`),
        facts: missing.map((item) => ({ label: text('Missing', '尚缺'), value: text(provisionOf(item).label.en, provisionOf(item).label['zh-CN']) })),
      };
    },
  };
}
