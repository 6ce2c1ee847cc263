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

/** The words of the evidence upload widget (api/pages/evidence-section.ts). */
export const evidenceStrings = {
  heading: text('Evidence', '证明材料'),
  intro: (maxFiles: number) =>
    text(
      `Upload photos and documents as JPEG, PNG, WebP or PDF, at most 10 MB each and ${maxFiles} in all. You can choose several files at once.`,
      `请上传 JPEG、PNG、WebP 或 PDF 格式的照片和文件，每个不超过 10 MB，总数不超过 ${maxFiles} 个。可一次选择多个文件。`,
    ),
  itemLabel: text('These files are', '文件内容'),
  itemUnspecified: text('(say nothing)', '（不注明）'),
  filesLabel: text('Files', '文件'),
  uploadButton: text('Upload', '上传'),
  uploadedHeading: (count: number | string, maxFiles: number) => text(`Uploaded (${count} of at most ${maxFiles})`, `已上传（${count} 个，最多 ${maxFiles} 个）`),
  noneYet: text('Nothing uploaded yet.', '尚未上传任何文件。'),
  uploading: text('Uploading…', '正在上传…'),
  uploaded: text('Uploaded', '已上传'),
  download: text('Download', '下载'),
  refusedHeading: text('The files could not be uploaded', '文件未能上传'),
  nothingStored: text('Nothing was stored. Please choose other files and upload again.', '所有文件均未保存。请选择其他文件后重新上传。'),
  backToPage: text('Back to the page', '返回页面'),
  refusal: {
    file_too_large: text('is larger than 10 MB.', '超过 10 MB。'),
    unsupported_file_type: text('is not a JPEG, PNG, WebP or PDF file (its content is {type}).', '不是 JPEG、PNG、WebP 或 PDF 文件（实际内容为 {type}）。'),
    too_many_files: text('would be more files than the case may hold ({max}).', '超出此工单可上传的文件数（{max} 个）。'),
    empty_file: text('is empty.', '是空文件。'),
    unreadable_image: text('cannot be read as an image.', '无法作为图片读取。'),
    other: text('could not be uploaded: {message}', '上传失败：{message}'),
    network: text('could not be uploaded: the connection failed. Please try again.', '上传失败：网络连接中断，请重试。'),
  },
  unknownType: text('of no recognised type', '无法识别的类型'),
} as const;
