import type { SignOffStep } from '../../workflows/sign-off/definitions';
import { formatDate, template } from '../shared/email-format';

const STEP_NAMES: Record<SignOffStep, { en: string; 'zh-CN': string }> = {
  technical_review: { en: 'technical review', 'zh-CN': '技术评审' },
  manager_approval: { en: 'manager approval', 'zh-CN': '经理审批' },
  rd_review: { en: 'R&D review', 'zh-CN': '研发评审' },
  acceptance_test: { en: 'test', 'zh-CN': '测试验证' },
  customer_signature: { en: 'customer signature', 'zh-CN': '客户签字确认' },
};

// A type alias, not an interface: the HTML part reads the params as a record.
type DocumentParams = {
  caseNumber: string;
  title: string;
  version: number;
  step: SignOffStep;
};

export const signOffEmailTemplates = {
  document_decision_requested: template<DocumentParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 待${STEP_NAMES[p.step]['zh-CN']}：${p.title}（第 ${p.version} 版）`,
      text: `您好：\n\n${p.caseNumber} 的《${p.title}》第 ${p.version} 版等待您的${STEP_NAMES[p.step]['zh-CN']}。请在系统中批准，或填写意见后退回。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Waiting for your ${STEP_NAMES[p.step].en}: ${p.title} (version ${p.version})`,
      text: `Hello,\n\nVersion ${p.version} of "${p.title}" (${p.caseNumber}) waits for your ${STEP_NAMES[p.step].en}. Approve it, or send it back with your comments.`,
    }),
  }),

  document_signature_requested: template<DocumentParams & { customerName: string; signUrl: string; expiresOn: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 请确认签字：${p.title}（第 ${p.version} 版）`,
      text: `${p.customerName}：\n\n请阅读《${p.title}》第 ${p.version} 版，签字确认，或填写意见退回修改：\n${p.signUrl}\n\n链接仅可使用一次，有效期至 ${formatDate['zh-CN'](p.expiresOn)}。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Please sign: ${p.title} (version ${p.version})`,
      text: `Dear ${p.customerName},\n\nPlease read version ${p.version} of "${p.title}" and sign it, or object with your comments and we will revise it:\n${p.signUrl}\n\nThe link works once and expires on ${formatDate.en(p.expiresOn)}.`,
    }),
  }),

  document_returned: template<DocumentParams & { decidedBy: string; comment: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 已退回修改：${p.title}（第 ${p.version} 版）`,
      text: `您好：\n\n《${p.title}》第 ${p.version} 版在${STEP_NAMES[p.step]['zh-CN']}环节被 ${p.decidedBy} 退回。\n意见：${p.comment}\n\n请修改后提交新版本。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Sent back for revision: ${p.title} (version ${p.version})`,
      text: `Hello,\n\nVersion ${p.version} of "${p.title}" was sent back at ${STEP_NAMES[p.step].en} by ${p.decidedBy}.\nComments: ${p.comment}\n\nPlease revise it and submit a new version.`,
    }),
  }),
};
