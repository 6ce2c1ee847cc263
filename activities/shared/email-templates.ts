import path from 'node:path';
import type { Locale } from '../../db/schema';
import { doaClaimEmailTemplates } from '../doa-claim/email-templates';
import { faultRepairEmailTemplates } from '../fault-repair/email-templates';
import { incidentEmailTemplates } from '../incident/email-templates';
import { incidentCloseOutEmailTemplates } from '../incident-close-out/email-templates';
import { goodsClaimEmailTemplates } from '../goods-claim/email-templates';
import { rmaRepairEmailTemplates } from '../rma-repair/email-templates';
import { signOffEmailTemplates } from '../sign-off/email-templates';
import { rectificationSiteEmailTemplates } from '../rectification/site-email-templates';
import { rectificationCampaignEmailTemplates } from '../rectification/campaign-email-templates';
import { formatAmount, formatDate, template } from './email-format';
import { createHtmlTemplates } from './html';

/** What each template writes: the subject and the text part. */
export interface RenderedText {
  subject: string;
  text: string;
}

/** An email ready for the outbox: the text part as written, and an HTML part with the same content. */
export interface RenderedEmail extends RenderedText {
  html: string;
}

const signature: Record<Locale, string> = {
  'zh-CN': '\n\n此邮件由 fieldops 服务系统自动发送。',
  en: '\n\nThis message was sent automatically by the fieldops service back office.',
};

function withSignature(locale: Locale, rendered: RenderedText): RenderedText {
  return { subject: rendered.subject, text: rendered.text + signature[locale] };
}

export const emailTemplates = {
  ...signOffEmailTemplates,
  ...rectificationSiteEmailTemplates,
  ...rectificationCampaignEmailTemplates,
  ...faultRepairEmailTemplates,
  ...incidentEmailTemplates,
  ...incidentCloseOutEmailTemplates,
  ...goodsClaimEmailTemplates,
  ...rmaRepairEmailTemplates,
  ...doaClaimEmailTemplates,
  case_acknowledgement: template<{ caseNumber: string; customerName: string; summary: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 已受理您的服务请求`,
      text: `${p.customerName}：\n\n我们已受理您的服务请求（编号 ${p.caseNumber}）：${p.summary}。\n后续进展将通过邮件通知您。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] We have registered your service request`,
      text: `Dear ${p.customerName},\n\nWe have registered your service request ${p.caseNumber}: ${p.summary}.\nWe will keep you informed by email.`,
    }),
  }),

  console_sign_in: template<{ name: string; signInUrl: string; validUntil: string }>({
    'zh-CN': (p) => ({
      subject: 'fieldops 控制台登录链接',
      text: `${p.name}：\n\n请通过以下链接登录 fieldops 控制台：\n${p.signInUrl}\n\n链接只能使用一次，有效期至 ${p.validUntil}（北京时间）。如果不是您本人申请，请忽略此邮件。`,
    }),
    en: (p) => ({
      subject: 'Your fieldops console sign-in link',
      text: `Dear ${p.name},\n\nSign in to the fieldops console here:\n${p.signInUrl}\n\nThe link works once, until ${p.validUntil} China time. If you did not ask for it, ignore this email.`,
    }),
  }),

  spare_part_application_link: template<{ customerName: string; applyUrl: string; expiresOn: string }>({
    'zh-CN': (p) => ({
      subject: '备件先行申请链接',
      text: `${p.customerName}：\n\n请通过以下链接提交备件先行申请（填写故障设备序列号、故障现象和收货地址）：\n${p.applyUrl}\n\n链接仅可使用一次，有效期至 ${formatDate['zh-CN'](p.expiresOn)}。`,
    }),
    en: (p) => ({
      subject: 'Your spare-part-first application link',
      text: `Dear ${p.customerName},\n\nApply for an advance replacement here (failed device serial, fault and delivery address):\n${p.applyUrl}\n\nThe link works once and expires on ${formatDate.en(p.expiresOn)}.`,
    }),
  }),

  spare_part_application_received: template<{ loanNumber: string; failedSerial: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 备件先行申请已收到`,
      text: `您好：\n\n我们已收到设备 ${p.failedSerial} 的备件先行申请（编号 ${p.loanNumber}），正在等待技术经理审批。`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Spare-part-first application received`,
      text: `Hello,\n\nWe have received the spare-part-first application ${p.loanNumber} for device ${p.failedSerial}. It is waiting for the technical manager's approval.`,
    }),
  }),

  spare_part_rejected: template<{ loanNumber: string; reason: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 备件先行申请未获批准`,
      text: `您好：\n\n很抱歉，备件先行申请 ${p.loanNumber} 未获批准。原因：${p.reason}`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Spare-part-first application not approved`,
      text: `Hello,\n\nWe are sorry: the spare-part-first application ${p.loanNumber} was not approved. Reason: ${p.reason}`,
    }),
  }),

  spare_part_shipped: template<{
    loanNumber: string;
    replacementSerial: string;
    carrier: string;
    trackingNumber: string;
    confirmReceiptUrl: string;
    warrantyEnd: string;
  }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 备件已发货，请签收确认`,
      text:
        `您好：\n\n备件 ${p.replacementSerial} 已由 ${p.carrier} 发出，运单号 ${p.trackingNumber}。\n` +
        `收到后请点击以下链接确认签收，并注明任何差异：\n${p.confirmReceiptUrl}\n\n` +
        `请在签收后 15 个工作日内将故障件连同故障标签寄回，逾期将按目录价计费。\n备件保修至 ${formatDate['zh-CN'](p.warrantyEnd)}。`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Your replacement part has shipped: please confirm receipt`,
      text:
        `Hello,\n\nReplacement part ${p.replacementSerial} has shipped with ${p.carrier}, tracking number ${p.trackingNumber}.\n` +
        `When it arrives, please confirm receipt (and note any discrepancy) here:\n${p.confirmReceiptUrl}\n\n` +
        `The failed part, with its fault tag, is due back within 15 working days of receipt; a part not returned is billed at list price.\n` +
        `The replacement is under warranty until ${formatDate.en(p.warrantyEnd)}.`,
    }),
  }),

  spare_part_return_deadline: template<{ loanNumber: string; failedSerial: string; dueDate: string; provisional: boolean }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 故障件归还期限：${formatDate['zh-CN'](p.dueDate)}`,
      text:
        `您好：\n\n请于 ${formatDate['zh-CN'](p.dueDate)} 23:59（北京时间）前将故障件 ${p.failedSerial} 连同故障标签寄回。` +
        (p.provisional ? '\n注意：该期限涉及尚未公布的节假日安排，为暂定期限，公布后可能调整。' : '') +
        `\n逾期未归还将按目录价计入下一账期，并暂停备件先行服务。`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Return the failed part by ${formatDate.en(p.dueDate)}`,
      text:
        `Hello,\n\nPlease return failed part ${p.failedSerial}, with its fault tag, by ${formatDate.en(p.dueDate)} 23:59 China time.` +
        (p.provisional ? '\nNote: this deadline is provisional, because the holiday calendar for that period is not yet published.' : '') +
        `\nA part not returned in time is billed at list price in the next billing cycle and spare-part-first service is suspended.`,
    }),
  }),

  spare_part_return_reminder: template<{ loanNumber: string; failedSerial: string; dueDate: string; workingDaysLeft: number }>({
    'zh-CN': (p) => ({
      subject:
        p.workingDaysLeft === 0
          ? `[${p.loanNumber}] 今天是故障件归还截止日`
          : `[${p.loanNumber}] 提醒：故障件还有 ${p.workingDaysLeft} 个工作日到期`,
      text: `您好：\n\n故障件 ${p.failedSerial} 的归还截止日为 ${formatDate['zh-CN'](p.dueDate)}。如已寄出，请忽略本提醒。`,
    }),
    en: (p) => ({
      subject:
        p.workingDaysLeft === 0
          ? `[${p.loanNumber}] Today is the last day to return the failed part`
          : `[${p.loanNumber}] Reminder: the failed part is due in ${p.workingDaysLeft} working day${p.workingDaysLeft === 1 ? '' : 's'}`,
      text: `Hello,\n\nFailed part ${p.failedSerial} is due back by ${formatDate.en(p.dueDate)}. If you have already sent it, please ignore this reminder.`,
    }),
  }),

  spare_part_overdue_customer: template<{ loanNumber: string; failedSerial: string; amountCents: number; billingCycle: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 故障件逾期未归还：已按目录价计费`,
      text:
        `您好：\n\n故障件 ${p.failedSerial} 未在期限内归还，已按目录价 ${formatAmount(p.amountCents)} 计入 ${p.billingCycle} 账期，` +
        `贵司的备件服务已调整为“返修”方式，直至逾期件归还或付款后恢复。`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Failed part overdue: billed at list price`,
      text:
        `Hello,\n\nFailed part ${p.failedSerial} was not returned in time. It is billed at its list price, ${formatAmount(p.amountCents)}, in billing cycle ${p.billingCycle}, ` +
        `and your service is downgraded to return-for-repair until the overdue part is returned or paid.`,
    }),
  }),

  spare_part_overdue_manager: template<{ loanNumber: string; customerName: string; failedSerial: string; amountCents: number }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 备件借用逾期：${p.customerName}`,
      text: `客户 ${p.customerName} 的故障件 ${p.failedSerial} 逾期未归还，已生成 ${formatAmount(p.amountCents)} 的账单行，客户服务已降级。`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Spare-part loan overdue: ${p.customerName}`,
      text: `${p.customerName} has not returned failed part ${p.failedSerial}. An invoice line of ${formatAmount(p.amountCents)} was created and the customer is downgraded to return-for-repair.`,
    }),
  }),

  spare_part_closed: template<{ loanNumber: string; failedSerial: string; writtenOff: boolean }>({
    'zh-CN': (p) => ({
      subject: `[${p.loanNumber}] 备件借用已关闭`,
      text: `您好：\n\n故障件 ${p.failedSerial} 的备件借用 ${p.loanNumber} 已${p.writtenOff ? '核销' : '关闭'}，谢谢您的配合。`,
    }),
    en: (p) => ({
      subject: `[${p.loanNumber}] Spare-part loan closed`,
      text: `Hello,\n\nSpare-part loan ${p.loanNumber} for failed part ${p.failedSerial} is ${p.writtenOff ? 'written off' : 'closed'}. Thank you.`,
    }),
  }),
} as const;

export type EmailTemplates = typeof emailTemplates;
export type TemplateName = keyof EmailTemplates;
export type TemplateParams<K extends TemplateName> = Parameters<EmailTemplates[K]['en']>[0];

/** A template name with its parameters, type-checked against each other. */
export type EmailContent = { [K in TemplateName]: { template: K; params: TemplateParams<K> } }[TemplateName];

const htmlTemplates = createHtmlTemplates(path.join(__dirname, 'templates'));

/** One line of the HTML part: text, and links where the text carries one of the email's URLs. */
type HtmlLine = { text: string; href?: string }[];

function splitOnLinks(line: string, urls: readonly string[]): HtmlLine {
  const parts: HtmlLine = [];
  let rest = line;
  for (;;) {
    const found = urls
      .map((url) => ({ url, at: rest.indexOf(url) }))
      .filter((hit) => hit.at >= 0)
      .sort((a, b) => a.at - b.at || b.url.length - a.url.length)[0];
    if (!found) break;
    if (found.at > 0) parts.push({ text: rest.slice(0, found.at) });
    parts.push({ text: found.url, href: found.url });
    rest = rest.slice(found.at + found.url.length);
  }
  if (rest || parts.length === 0) parts.push({ text: rest });
  return parts;
}

/**
 * The HTML part, made from the text part so that the two say the same: paragraphs at blank lines,
 * line breaks kept, every value escaped by the template. Only the template's own URL parameters
 * (`...Url`, the signed links the system issued) become links: a URL typed into a free-text value
 * (a reason, a name) stays text.
 */
export function renderEmailHtml(rendered: RenderedText, locale: Locale, params: object): string {
  const urls = Object.entries(params)
    .filter(([name, value]) => name.endsWith('Url') && typeof value === 'string' && /^https?:\/\//.test(value))
    .map(([, value]) => value as string);
  const paragraphs = rendered.text.split(/\n{2,}/).map((paragraph) => paragraph.split('\n').map((line) => splitOnLinks(line, urls)));
  return htmlTemplates.render('email', { lang: locale, subject: rendered.subject, paragraphs });
}

export function renderEmail(content: EmailContent, locale: Locale): RenderedEmail {
  const render = emailTemplates[content.template][locale] as (params: unknown) => RenderedText;
  const rendered = withSignature(locale, render(content.params));
  return { ...rendered, html: renderEmailHtml(rendered, locale, content.params) };
}
