import type { SlotMoveReason } from '../../workflows/rectification/site-definitions';
import { formatDate, template } from '../shared/email-format';
import { chinaTime } from '../fault-repair/email-templates';

// Batch rectification, per site: the customer asked to confirm each slot (with why it moved), told of
// a failed attempt and reminded of replaced parts they keep; the desk and R&D told of a review that
// missed its slot - 3 days deadline.

type SiteParams = { campaignNumber: string; siteName: string };
type SlotParams = SiteParams & { customerName: string; reason: SlotMoveReason; detail: string; startsAt: string; durationMinutes: number; previousStartsAt: string | null; confirmUrl: string };

const REASON_WORDS: Record<SlotMoveReason, { en: string; 'zh-CN': string }> = {
  proposed: { en: 'We propose this slot for the rectification work at your site.', 'zh-CN': '我们为贵方站点的整改工作建议以下时间窗口。' },
  rescheduled: { en: 'The rectification work at your site is rescheduled.', 'zh-CN': '贵方站点的整改工作已重新安排时间。' },
  rd_review_late: {
    en: 'The R&D review of the implementation plan was not finished 3 days before the slot, so the work moves to the first slot allowed at least 3 days after the review finished, outside your busy hours and protected periods.',
    'zh-CN': '实施方案的研发评审未能在时间窗口前 3 天完成，整改工作顺延至评审完成 3 天后的第一个可用时间窗口（避开贵方业务繁忙时段和保障期）。',
  },
};

export const rectificationSiteEmailTemplates = {
  rectification_site_slot_confirmation: template<SlotParams>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] 请确认 ${p.siteName} 的整改时间`,
      text:
        `${p.customerName}：\n\n${REASON_WORDS[p.reason]['zh-CN']}\n${p.detail}\n\n` +
        (p.previousStartsAt ? `原时间：${chinaTime(p.previousStartsAt)}\n` : '') +
        `时间：${chinaTime(p.startsAt)}，约 ${p.durationMinutes} 分钟\n\n请点击链接确认：\n${p.confirmUrl}`,
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] Please confirm the rectification slot at ${p.siteName}`,
      text:
        `Dear ${p.customerName},\n\n${REASON_WORDS[p.reason].en}\n${p.detail}\n\n` +
        (p.previousStartsAt ? `Was: ${chinaTime(p.previousStartsAt)}\n` : '') +
        `Slot: ${chinaTime(p.startsAt)}, about ${p.durationMinutes} minutes\n\nPlease confirm it here:\n${p.confirmUrl}`,
    }),
  }),

  rectification_site_rd_review_overdue: template<SiteParams & { slotStartsAt: string; dueAt: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] ${p.siteName} 的研发评审已逾期`,
      text: `您好：\n\n${p.siteName} 的高风险实施方案未能在 ${chinaTime(p.dueAt)}（时间窗口 ${chinaTime(p.slotStartsAt)} 前 3 天）前完成研发评审。评审完成后，整改时间将顺延至评审完成 3 天后的第一个可用时间窗口，并请客户重新确认。`,
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] R&D review overdue at ${p.siteName}`,
      text: `Hello,\n\nThe R&D review of the high-risk implementation plan at ${p.siteName} was not finished by ${chinaTime(p.dueAt)} (3 days before the slot ${chinaTime(p.slotStartsAt)}). Once it is finished, the work moves to the first allowed slot at least 3 days later and the customer confirms it again.`,
    }),
  }),

  rectification_site_attempt_failed: template<SiteParams & { customerName: string; result: string; rollback: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] ${p.siteName} 的整改未成功，已回退`,
      text: `${p.customerName}：\n\n本次整改未成功：${p.result}\n已按方案回退：${p.rollback}\n\n我们将重新安排时间，并请您确认。`,
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] Rectification at ${p.siteName} did not succeed and was rolled back`,
      text: `Dear ${p.customerName},\n\nThe rectification did not succeed: ${p.result}\nRolled back per the plan: ${p.rollback}\n\nWe will propose a new slot for you to confirm.`,
    }),
  }),

  rectification_part_return_reminder: template<SiteParams & { customerName: string; serial: string; dueDate: string; workingDaysLeft: number }>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] 请归还更换下的部件 ${p.serial}`,
      text: `${p.customerName}：\n\n${p.siteName} 整改时更换下的部件 ${p.serial} 由贵方暂存，请于 ${formatDate['zh-CN'](p.dueDate)} 24:00（北京时间）前归还` + (p.workingDaysLeft > 0 ? `（还剩 ${p.workingDaysLeft} 个工作日）。` : '（今天是最后一天）。'),
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] Please return replaced part ${p.serial}`,
      text: `Dear ${p.customerName},\n\nReplaced part ${p.serial} from the rectification at ${p.siteName}, which you kept, is due back by ${formatDate.en(p.dueDate)} 23:59 China time` + (p.workingDaysLeft > 0 ? ` (${p.workingDaysLeft} working days left).` : ' (today is the last day).'),
    }),
  }),

  rectification_part_return_overdue: template<SiteParams & { customerName: string; serial: string; dueDate: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] 部件 ${p.serial} 归还已逾期`,
      text: `${p.customerName}：\n\n${p.siteName} 整改时更换下的部件 ${p.serial} 应于 ${formatDate['zh-CN'](p.dueDate)} 前归还，目前尚未收到，请尽快寄回。`,
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] Replaced part ${p.serial} overdue`,
      text: `Dear ${p.customerName},\n\nReplaced part ${p.serial} from the rectification at ${p.siteName} was due back by ${formatDate.en(p.dueDate)} and has not arrived. Please send it back now.`,
    }),
  }),
};
