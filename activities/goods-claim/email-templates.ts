import type { GoodsClaimOutcome } from '../../workflows/goods-claim/definitions';
import { provisionOf } from '../../workflows/goods-claim/evidence';
import type { GoodsClaimKind } from '../../workflows/rules/goods';
import { formatAmount, formatDate, template } from '../shared/email-format';

// Goods claim (P5) emails to the customer: the evidence still missing with the claim's page link, the
// chase, the lapse at the end of the window, the claim complete and under review, and the outcome.

const KIND_WORDS: Record<GoodsClaimKind, { en: string; 'zh-CN': string }> = {
  transport_damage: { en: 'transport damage', 'zh-CN': '货损' },
  wrong_missing_extra: { en: 'wrong, missing or extra goods', 'zh-CN': '差错货（少货、错货、多货）' },
};

// Type aliases, not interfaces: the HTML part reads the params as a record.
type ClaimParams = { claimNumber: string; customerName: string; kind: GoodsClaimKind; lastDay: string };
type MissingParams = ClaimParams & { missing: string[] };
type LinkParams = MissingParams & { claimUrl: string };
type ResolvedParams = {
  claimNumber: string;
  customerName: string;
  kind: GoodsClaimKind;
  outcome: GoodsClaimOutcome;
  carrier: string | null;
  trackingNumber: string | null;
  amountCents: number | null;
  reason: string | null;
};

/** The missing items as a list in the recipient's language. */
const list = (missing: readonly string[], locale: 'en' | 'zh-CN'): string => missing.map((item) => `- ${provisionOf(item).label[locale]}`).join('\n');

export const goodsClaimEmailTemplates = {
  goods_claim_evidence_request: template<LinkParams>({
    'zh-CN': (p) => ({
      subject: `[${p.claimNumber}] 货物问题申报：请补充资料`,
      text:
        `${p.customerName}：\n\n我们已登记您的${KIND_WORDS[p.kind]['zh-CN']}申报（编号 ${p.claimNumber}）。按规定还需以下资料：\n${list(p.missing, 'zh-CN')}\n\n` +
        `请通过以下链接补充编号信息并上传文件：\n${p.claimUrl}\n\n请在 ${formatDate['zh-CN'](p.lastDay)}（申报期限最后一天）之前补齐，逾期未补齐的申报将失效。`,
    }),
    en: (p) => ({
      subject: `[${p.claimNumber}] Goods claim: evidence needed`,
      text:
        `Dear ${p.customerName},\n\nWe have registered your ${KIND_WORDS[p.kind].en} claim ${p.claimNumber}. The rules require the following, which we do not have yet:\n${list(p.missing, 'en')}\n\n` +
        `Add the numbers and upload the files on the claim's page:\n${p.claimUrl}\n\nPlease complete it by ${formatDate.en(p.lastDay)}, the last day of the claim window; a claim still incomplete then lapses.`,
    }),
  }),

  goods_claim_evidence_chase: template<LinkParams>({
    'zh-CN': (p) => ({
      subject: `[${p.claimNumber}] 提醒：货物问题申报资料尚未补齐`,
      text:
        `${p.customerName}：\n\n申报 ${p.claimNumber} 仍缺少以下资料：\n${list(p.missing, 'zh-CN')}\n\n请通过以下链接补充：\n${p.claimUrl}\n\n` +
        `申报期限最后一天为 ${formatDate['zh-CN'](p.lastDay)}，逾期未补齐的申报将失效。`,
    }),
    en: (p) => ({
      subject: `[${p.claimNumber}] Reminder: your goods claim is still incomplete`,
      text:
        `Dear ${p.customerName},\n\nClaim ${p.claimNumber} still lacks:\n${list(p.missing, 'en')}\n\nAdd them on the claim's page:\n${p.claimUrl}\n\n` +
        `The last day of the claim window is ${formatDate.en(p.lastDay)}; a claim still incomplete then lapses.`,
    }),
  }),

  goods_claim_lapsed: template<MissingParams>({
    'zh-CN': (p) => ({
      subject: `[${p.claimNumber}] 货物问题申报已失效`,
      text: `${p.customerName}：\n\n申报 ${p.claimNumber} 在申报期限（${formatDate['zh-CN'](p.lastDay)}）结束时仍缺少以下资料，已失效：\n${list(p.missing, 'zh-CN')}`,
    }),
    en: (p) => ({
      subject: `[${p.claimNumber}] Your goods claim has lapsed`,
      text: `Dear ${p.customerName},\n\nClaim ${p.claimNumber} has lapsed: when its window ended on ${formatDate.en(p.lastDay)} it still lacked:\n${list(p.missing, 'en')}`,
    }),
  }),

  goods_claim_under_review: template<ClaimParams>({
    'zh-CN': (p) => ({
      subject: `[${p.claimNumber}] 货物问题申报资料已齐全`,
      text: `${p.customerName}：\n\n您的${KIND_WORDS[p.kind]['zh-CN']}申报 ${p.claimNumber} 资料已齐全，我们正在处理，处理结果将通过邮件通知您。`,
    }),
    en: (p) => ({
      subject: `[${p.claimNumber}] Your goods claim is complete`,
      text: `Dear ${p.customerName},\n\nYour ${KIND_WORDS[p.kind].en} claim ${p.claimNumber} has all the evidence the rules require. We are reviewing it and will email you the outcome.`,
    }),
  }),

  goods_claim_resolved: template<ResolvedParams>({
    'zh-CN': (p) => ({
      subject: `[${p.claimNumber}] 货物问题申报处理结果`,
      text:
        `${p.customerName}：\n\n` +
        (p.outcome === 'replacement'
          ? `申报 ${p.claimNumber} 的补发货物已发出：承运商 ${p.carrier ?? ''}，运单号 ${p.trackingNumber ?? ''}。`
          : p.outcome === 'credit'
            ? `申报 ${p.claimNumber} 已受理，我们将在下一账期为您开具 ${formatAmount(p.amountCents ?? 0)} 的贷记。`
            : `很抱歉，申报 ${p.claimNumber} 未被受理。原因：${p.reason ?? ''}`),
    }),
    en: (p) => ({
      subject: `[${p.claimNumber}] The outcome of your goods claim`,
      text:
        `Dear ${p.customerName},\n\n` +
        (p.outcome === 'replacement'
          ? `The replacement goods for claim ${p.claimNumber} have shipped: carrier ${p.carrier ?? ''}, tracking number ${p.trackingNumber ?? ''}.`
          : p.outcome === 'credit'
            ? `Claim ${p.claimNumber} is accepted: a credit of ${formatAmount(p.amountCents ?? 0)} goes on your next invoice.`
            : `We are sorry: claim ${p.claimNumber} is refused. Reason: ${p.reason ?? ''}`),
    }),
  }),
};
