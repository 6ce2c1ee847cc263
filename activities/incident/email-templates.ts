import type { ExpertSpecialty } from '../../workflows/incident/definitions';
import { ESCALATION_LADDER, type LadderLevel } from '../../workflows/rules/grading';
import { chinaTime } from '../fault-repair/email-templates';
import { template } from '../shared/email-format';

// Emergency incident (P2) emails: the customer's contact is told the status at registration, grading,
// each ladder level, restoration and reopening; the staff of each level and the managers are told
// when it moves; vendors get the case summary at ladder level 4; the contingency plan goes to everyone
// involved; each expert-group member is told they were added; the standby unit's switch-back is chased.

const LEVEL_WORDS = { en: (level: number | null) => (level ? `level ${level}` : 'not yet graded'), 'zh-CN': (level: number | null) => (level ? `${['', '一', '二', '三'][level]}级事故` : '尚未定级') };

export type IncidentEvent = 'registered' | 'graded' | 'escalated' | 'standby_lent' | 'restored' | 'reopened' | 'not_an_incident' | 'switch_back_chase' | 'switched_back';

const EVENT_WORDS: Record<IncidentEvent, { en: string; 'zh-CN': string }> = {
  registered: { en: 'registered', 'zh-CN': '已受理' },
  graded: { en: 'graded', 'zh-CN': '已定级' },
  escalated: { en: 'escalated', 'zh-CN': '已升级' },
  standby_lent: { en: 'standby unit installed', 'zh-CN': '备机已替换' },
  restored: { en: 'service restored', 'zh-CN': '业务已恢复' },
  reopened: { en: 'reopened: the same symptom recurred', 'zh-CN': '同样现象再次发生，事故重新处理' },
  not_an_incident: { en: 'not an incident: handled as a fault repair', 'zh-CN': '不属于事故，按故障维修处理' },
  switch_back_chase: { en: 'standby unit still to be switched back', 'zh-CN': '备机尚未切换回' },
  switched_back: { en: 'standby unit switched back', 'zh-CN': '备机已切换回' },
};

// Type aliases, not interfaces: the HTML part reads the params as a record.
type StatusParams = {
  caseNumber: string;
  customerName: string;
  event: IncidentEvent;
  level: number | null;
  ladderLevel: LadderLevel;
  symptom: string;
  detail: string;
};
type VendorParams = {
  caseNumber: string;
  vendorName: string;
  customerName: string;
  productName: string;
  deviceSerial: string;
  level: number | null;
  symptom: string;
  startedAt: string;
  summary: string;
};
type ContingencyParams = { caseNumber: string; customerName: string; title: string; steps: string[]; symptom: string };
type ExpertParams = { caseNumber: string; customerName: string; memberName: string; specialty: ExpertSpecialty; coordinator: boolean; symptom: string; level: number | null };

const SPECIALTY_WORDS: Record<ExpertSpecialty, { en: string; 'zh-CN': string }> = {
  host: { en: 'host', 'zh-CN': '主机' },
  network: { en: 'network', 'zh-CN': '网络' },
  database: { en: 'database', 'zh-CN': '数据库' },
  application: { en: 'application', 'zh-CN': '应用' },
};

const ladderWho = (level: LadderLevel, locale: 'en' | 'zh') => ESCALATION_LADDER[level].who[locale];

export const incidentEmailTemplates = {
  incident_customer_status: template<StatusParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 事故处理进展：${EVENT_WORDS[p.event]['zh-CN']}`,
      text: `${p.customerName}：\n\n事故 ${p.caseNumber}（${p.symptom}）${EVENT_WORDS[p.event]['zh-CN']}。\n当前级别：${LEVEL_WORDS['zh-CN'](p.level)}\n当前处理：${ladderWho(p.ladderLevel, 'zh')}${p.detail ? `\n${p.detail}` : ''}\n\n后续进展将通过邮件通知您。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Incident status: ${EVENT_WORDS[p.event].en}`,
      text: `Dear ${p.customerName},\n\nIncident ${p.caseNumber} (${p.symptom}): ${EVENT_WORDS[p.event].en}.\nLevel: ${LEVEL_WORDS.en(p.level)}\nHandled by: ${ladderWho(p.ladderLevel, 'en')}${p.detail ? `\n${p.detail}` : ''}\n\nWe will keep you informed by email.`,
    }),
  }),

  incident_staff_notice: template<StatusParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] ${p.customerName} 事故${EVENT_WORDS[p.event]['zh-CN']}（${LEVEL_WORDS['zh-CN'](p.level)}，第${p.ladderLevel}级处理）`,
      text: `您好：\n\n${p.customerName} 的事故 ${p.caseNumber}：${p.symptom}\n${EVENT_WORDS[p.event]['zh-CN']}。级别：${LEVEL_WORDS['zh-CN'](p.level)}；当前处理：${ladderWho(p.ladderLevel, 'zh')}。${p.detail ? `\n${p.detail}` : ''}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] ${p.customerName} incident ${EVENT_WORDS[p.event].en} (${LEVEL_WORDS.en(p.level)}, ladder level ${p.ladderLevel})`,
      text: `Hello,\n\nIncident ${p.caseNumber} of ${p.customerName}: ${p.symptom}\n${EVENT_WORDS[p.event].en}. Level: ${LEVEL_WORDS.en(p.level)}; handled by: ${ladderWho(p.ladderLevel, 'en')}.${p.detail ? `\n${p.detail}` : ''}`,
    }),
  }),

  incident_vendor_escalation: template<VendorParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 紧急技术支持请求：${p.customerName} ${p.productName}`,
      text: `${p.vendorName}：\n\n我方客户 ${p.customerName} 的 ${p.productName}（序列号 ${p.deviceSerial}）发生${LEVEL_WORDS['zh-CN'](p.level)}，已升级至最高级处理，请贵方最资深的技术工程师协助。\n故障现象：${p.symptom}\n发生时间：${chinaTime(p.startedAt)}\n处理概况：\n${p.summary}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Urgent support request: ${p.customerName} ${p.productName}`,
      text: `Dear ${p.vendorName},\n\nOur customer ${p.customerName} has an incident (${LEVEL_WORDS.en(p.level)}) on ${p.productName}, serial ${p.deviceSerial}, now at the top of our escalation ladder. We ask for your most senior engineers.\nSymptom: ${p.symptom}\nStarted: ${chinaTime(p.startedAt)}\nSummary:\n${p.summary}`,
    }),
  }),

  incident_contingency_plan: template<ContingencyParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 启动应急预案：${p.title}`,
      text: `您好：\n\n${p.customerName} 的事故 ${p.caseNumber}（${p.symptom}）已启动应急预案「${p.title}」：\n${p.steps.map((step, index) => `${index + 1}. ${step}`).join('\n')}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Contingency plan started: ${p.title}`,
      text: `Hello,\n\nThe contingency plan "${p.title}" was started for incident ${p.caseNumber} of ${p.customerName} (${p.symptom}):\n${p.steps.map((step, index) => `${index + 1}. ${step}`).join('\n')}`,
    }),
  }),

  incident_expert_group_member: template<ExpertParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 您已加入专家服务小组${p.coordinator ? '（协调人）' : ''}`,
      text: `${p.memberName}：\n\n您已加入 ${p.customerName} 事故 ${p.caseNumber}（${LEVEL_WORDS['zh-CN'](p.level)}：${p.symptom}）的专家服务小组，负责${SPECIALTY_WORDS[p.specialty]['zh-CN']}。${p.coordinator ? '\n您是小组协调人，负责与客户沟通。' : ''}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] You were added to the expert group${p.coordinator ? ' as coordinator' : ''}`,
      text: `Dear ${p.memberName},\n\nYou are in the expert group of incident ${p.caseNumber} of ${p.customerName} (${LEVEL_WORDS.en(p.level)}: ${p.symptom}), for ${SPECIALTY_WORDS[p.specialty].en}.${p.coordinator ? '\nYou are the coordinator: you face the customer.' : ''}`,
    }),
  }),
};
