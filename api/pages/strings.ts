import type { Locale } from '../../db/schema';
import { text, type Text } from './link-page';

/** The words every customer page shares, in each language customers read. */
export const strings = {
  languageName: text('English', '中文'),
  switchLanguage: text('Language', '语言'),
  greeting: (name: string) => text(`Dear ${name},`, `${name}，您好：`),
  required: text('(required)', '（必填）'),
  optional: text('(optional)', '（选填）'),
  maxCharacters: (max: number) => text(`At most ${max} characters.`, `最多 ${max} 个字符。`),
  validUntil: (when: string) => text(`This link is valid until ${when} (China time).`, `此链接有效期至 ${when}（北京时间）。`),
  singleUse: text('It works once.', '仅可使用一次。'),
  errorSummary: text('Please check the form:', '请检查以下内容：'),
  fieldRequired: text('Please fill this in.', '请填写此项。'),
  fieldTooLong: (max: number) => text(`Please shorten it to at most ${max} characters.`, `请缩短至最多 ${max} 个字符。`),
  fieldChoose: text('Please choose one.', '请选择一项。'),
  fieldInvalid: (message: string) => text(message, `填写有误：${message}`),
  doneHeading: text('Done', '已完成'),
  usedHeading: text('This link has already been used', '此链接已被使用'),
  usedMessage: text(
    'Nothing more needs to be done through it. If something is not right, reply to the email you received or contact your service desk.',
    '无需再次操作。如有问题，请回复您收到的邮件或联系服务台。',
  ),
  expiredHeading: text('This link has expired', '此链接已过期'),
  expiredMessage: text('Please ask your service desk for a new link.', '请联系服务台获取新的链接。'),
  invalidHeading: text('This link is not valid', '此链接无效'),
  invalidMessage: text(
    'Please check that the whole address from the email was opened: long links are sometimes cut in two.',
    '请确认打开的是邮件中的完整地址：较长的链接有时会被截断。',
  ),
  refusedHeading: text('This form could not be accepted', '无法受理此表单'),
  refusedMessage: text(
    'For your security, the form must be sent from its own page, opened shortly before. Nothing was changed: open the page again and send the form once more.',
    '为保障安全，表单须从其页面提交。未做任何更改：请重新打开页面后再次提交。',
  ),
  openAgain: text('Open the page again', '重新打开页面'),
  failedHeading: text('This could not be done', '无法完成此操作'),
  reason: (message: string) => text(`Reason: ${message}`, `原因：${message}`),
  fieldNamed: (label: string, message: string) => text(`${label}: ${message}`, `${label}：${message}`),
  serverErrorHeading: text('Something went wrong on our side', '系统出现问题'),
  serverErrorMessage: (requestId: string) => text(`Please try again later. Reference: ${requestId}`, `请稍后再试。参考编号：${requestId}`),
  supersededHeading: text('A newer version exists', '已有更新的版本'),
  openNewer: text('Open the newer version', '打开最新版本'),
  closedHeading: text('Nothing more to do through this link', '此链接无需再操作'),
  footer: text('fieldops customer service', 'fieldops 客户服务'),
} satisfies Record<string, Text | ((...args: never[]) => Text)>;

/** A date (YYYY-MM-DD) as customers read it. */
export function formatDate(isoDate: string, locale: Locale): string {
  const [year, month, day] = isoDate.slice(0, 10).split('-');
  return locale === 'zh-CN' ? `${year}年${Number(month)}月${Number(day)}日` : isoDate.slice(0, 10);
}

const CHINA_OFFSET_MS = 8 * 3_600_000;

/** An instant as a date and time in China (Asia/Shanghai, UTC+8 all year). */
export function formatChinaTime(instant: Date, locale: Locale): string {
  const shifted = new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString();
  return `${formatDate(shifted, locale)} ${shifted.slice(11, 16)}`;
}

/** The date in China of an instant. */
export function formatChinaDate(instant: Date, locale: Locale): string {
  return formatDate(new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString(), locale);
}
