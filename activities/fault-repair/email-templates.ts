import type { FaultReportContent, SlaTargetName } from '../../workflows/fault-repair/definitions';
import { formatDate, template } from '../shared/email-format';

// Fault repair (P1) emails: the customer's acknowledgement with the SLA targets, the appointment, the
// fault report and the follow-up with its survey link; the staff's SLA warnings, breach notices,
// maintenance-window overruns and stage-2 deadline alerts.

export const TARGET_NAMES: Record<SlaTargetName, { en: string; 'zh-CN': string }> = {
  phone_response: { en: 'phone response', 'zh-CN': '电话响应' },
  temporary_solution: { en: 'temporary solution', 'zh-CN': '临时解决方案' },
  on_site: { en: 'engineer on site', 'zh-CN': '工程师到达现场' },
  restoration: { en: 'service restored', 'zh-CN': '故障恢复' },
};

/** An ISO instant as China time, e.g. `2026-11-16 10:30 (UTC+8)`. */
export function chinaTime(iso: string): string {
  return `${new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')} (UTC+8)`;
}

// Type aliases, not interfaces: the HTML part reads the params as a record.
type TargetLine = { name: SlaTargetName; dueAt: string | null };
type TargetParams = { caseNumber: string; customerName: string; target: SlaTargetName; dueAt: string };
type FollowUpAlertParams = {
  caseNumber: string;
  customerName: string;
  kind: 'fault_report_chase' | 'fault_report_missed' | 'follow_up_due' | 'follow_up_overdue' | 'write_up_chase' | 'write_up_overdue';
  dueAt: string;
};
type FaultReportParams = { caseNumber: string; customerName: string; deviceSerial: string; report: FaultReportContent };

const ALERT_WORDS: Record<FollowUpAlertParams['kind'], { subject: { en: string; 'zh-CN': string }; text: { en: string; 'zh-CN': string } }> = {
  fault_report_chase: {
    subject: { en: 'fault report due', 'zh-CN': '故障报告即将到期' },
    text: { en: 'The fault report is due in 2 hours; please submit it.', 'zh-CN': '故障报告将在 2 小时后到期，请尽快提交。' },
  },
  fault_report_missed: {
    subject: { en: 'fault report missed', 'zh-CN': '故障报告逾期' },
    text: { en: 'The fault report was not submitted by its deadline.', 'zh-CN': '故障报告未在期限内提交。' },
  },
  follow_up_due: {
    subject: { en: 'follow-up call due', 'zh-CN': '回访电话到期' },
    text: { en: 'The follow-up call to the customer is due now; please call and record the outcome.', 'zh-CN': '客户回访电话已到期，请致电客户并登记结果。' },
  },
  follow_up_overdue: {
    subject: { en: 'follow-up call overdue', 'zh-CN': '回访电话逾期' },
    text: { en: 'The follow-up call is still not recorded a day after its deadline.', 'zh-CN': '回访电话在到期一天后仍未登记。' },
  },
  write_up_chase: {
    subject: { en: 'write-up due', 'zh-CN': '总结报告到期' },
    text: { en: 'The write-up is due now and is not in; please submit it.', 'zh-CN': '总结报告已到期但尚未提交，请尽快提交。' },
  },
  write_up_overdue: {
    subject: { en: 'write-up overdue', 'zh-CN': '总结报告逾期' },
    text: { en: 'The write-up is still not in a day after its deadline.', 'zh-CN': '总结报告在到期一天后仍未提交。' },
  },
};

/** The fault report's seven items [003 2.2.6] as text. */
function faultReportText(r: FaultReportContent, locale: 'en' | 'zh-CN'): string {
  const time = (iso: string | null) => (iso ? chinaTime(iso) : locale === 'en' ? 'none' : '无');
  const list = (names: string[]) => (names.length > 0 ? names.join(locale === 'en' ? ', ' : '、') : locale === 'en' ? 'none' : '无');
  if (locale === 'zh-CN') {
    return [
      `1. 时间：申告 ${time(r.reportedAt)}；远程支持 ${time(r.remoteSupportAt)}；现场服务 ${time(r.onSiteAt)}；故障修复 ${time(r.restoredAt)}`,
      `2. 技术支持工程师：${list(r.engineers)}；客户配合工程师：${list(r.customerEngineers)}`,
      `3. 故障现象及业务影响：${r.symptomsAndImpact}`,
      `4. 故障处理过程：${r.resolutionProcess}`,
      `5. 故障原因分析：${r.rootCause}`,
      `6. 故障解决方案：${r.solution}`,
      `7. 故障避免性维护建议：${r.preventionAdvice}`,
    ].join('\n');
  }
  return [
    `1. Times: reported ${time(r.reportedAt)}; remote support ${time(r.remoteSupportAt)}; on site ${time(r.onSiteAt)}; restored ${time(r.restoredAt)}`,
    `2. Support engineers: ${list(r.engineers)}; your engineers: ${list(r.customerEngineers)}`,
    `3. Symptoms and business impact: ${r.symptomsAndImpact}`,
    `4. What was done: ${r.resolutionProcess}`,
    `5. Root cause: ${r.rootCause}`,
    `6. Solution: ${r.solution}`,
    `7. Prevention advice: ${r.preventionAdvice}`,
  ].join('\n');
}

export const faultRepairEmailTemplates = {
  fault_repair_acknowledgement: template<{ caseNumber: string; customerName: string; deviceSerial: string; severity: string; targets: TargetLine[] }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 已受理您的故障报修`,
      text: `${p.customerName}：\n\n我们已受理设备 ${p.deviceSerial} 的故障报修（编号 ${p.caseNumber}，级别 ${p.severity}）。服务承诺：\n${p.targets
        .map((t) => `- ${TARGET_NAMES[t.name]['zh-CN']}：${t.dueAt ? `${chinaTime(t.dueAt)} 前` : '不适用'}`)
        .join('\n')}\n\n后续进展将通过邮件通知您。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] We have registered your fault report`,
      text: `Dear ${p.customerName},\n\nWe have registered the fault on device ${p.deviceSerial} as ${p.caseNumber} (severity ${p.severity}). Our targets:\n${p.targets
        .map((t) => `- ${TARGET_NAMES[t.name].en}: ${t.dueAt ? `by ${chinaTime(t.dueAt)}` : 'not applicable'}`)
        .join('\n')}\n\nWe will keep you informed by email.`,
    }),
  }),

  fault_repair_report_link: template<{ customerName: string; reportUrl: string; expiresOn: string }>({
    'zh-CN': (p) => ({
      subject: '故障报修链接',
      text: `${p.customerName}：\n\n请通过以下链接报修（设备序列号、故障现象、已采取的措施、严重程度）：\n${p.reportUrl}\n\n链接仅可使用一次，有效期至 ${formatDate['zh-CN'](p.expiresOn)}。紧急故障请同时拨打服务热线。`,
    }),
    en: (p) => ({
      subject: 'Your link to report a fault',
      text: `Dear ${p.customerName},\n\nReport a fault here (device serial, symptoms, what you already tried, severity):\n${p.reportUrl}\n\nThe link works once and expires on ${formatDate.en(p.expiresOn)}. For a critical fault, also call the service hotline.`,
    }),
  }),

  fault_repair_target_warning: template<TargetParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] SLA 预警：${TARGET_NAMES[p.target]['zh-CN']}将于 ${chinaTime(p.dueAt)} 到期`,
      text: `您好：\n\n${p.customerName} 的故障 ${p.caseNumber} 的${TARGET_NAMES[p.target]['zh-CN']}时限已过 75%，将于 ${chinaTime(p.dueAt)} 到期，请尽快处理。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] SLA warning: ${TARGET_NAMES[p.target].en} due ${chinaTime(p.dueAt)}`,
      text: `Hello,\n\n75 % of the ${TARGET_NAMES[p.target].en} time of ${p.caseNumber} (${p.customerName}) has passed; it is due ${chinaTime(p.dueAt)}.`,
    }),
  }),

  fault_repair_target_breached: template<TargetParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] SLA 超时：${TARGET_NAMES[p.target]['zh-CN']}`,
      text: `您好：\n\n${p.customerName} 的故障 ${p.caseNumber} 的${TARGET_NAMES[p.target]['zh-CN']}时限（${chinaTime(p.dueAt)}）已过，目标记为未达成。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] SLA breached: ${TARGET_NAMES[p.target].en}`,
      text: `Hello,\n\nThe ${TARGET_NAMES[p.target].en} target of ${p.caseNumber} (${p.customerName}) was due ${chinaTime(p.dueAt)} and is recorded as missed.`,
    }),
  }),

  fault_repair_appointment: template<{ caseNumber: string; customerName: string; engineerName: string; appointmentAt: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 工程师上门预约`,
      text: `${p.customerName}：\n\n工程师 ${p.engineerName} 将于 ${chinaTime(p.appointmentAt)} 到达现场处理故障 ${p.caseNumber}。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Engineer appointment`,
      text: `Dear ${p.customerName},\n\nOur engineer ${p.engineerName} will be on site for ${p.caseNumber} at ${chinaTime(p.appointmentAt)}.`,
    }),
  }),

  fault_repair_window_overrun: template<{ caseNumber: string; customerName: string; windowEndsAt: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 高危操作超出维护窗口`,
      text: `您好：\n\n${p.customerName} 的故障 ${p.caseNumber} 的高危操作在维护窗口结束（${chinaTime(p.windowEndsAt)}）时仍未完成，请立即跟进。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] High-risk work overran the maintenance window`,
      text: `Hello,\n\nThe high-risk work on ${p.caseNumber} (${p.customerName}) was not finished when the maintenance window closed at ${chinaTime(p.windowEndsAt)}. Follow up now.`,
    }),
  }),

  fault_repair_window_reminder: template<{ caseNumber: string; customerName: string; until: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 维护窗口现已开启，至 ${p.until}`,
      text: `您好：\n\n${p.customerName} 的故障 ${p.caseNumber} 的维护窗口现已开启，至 ${p.until}（北京时间）。已签署的方案包含高危操作，请在窗口内开始工作。\n\nThe maintenance window for ${p.caseNumber} opens now, until ${p.until} (China time).`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] The maintenance window opens now, until ${p.until}`,
      text: `Hello,\n\nThe maintenance window for ${p.caseNumber} (${p.customerName}) opens now, until ${p.until} (China time). The signed plan has high-risk operations: start the work inside the window.`,
    }),
  }),

  fault_repair_follow_up_alert: template<FollowUpAlertParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] ${ALERT_WORDS[p.kind].subject['zh-CN']}（${chinaTime(p.dueAt)}）`,
      text: `您好：\n\n${p.customerName} 的故障 ${p.caseNumber}：${ALERT_WORDS[p.kind].text['zh-CN']}期限：${chinaTime(p.dueAt)}。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] ${ALERT_WORDS[p.kind].subject.en} (${chinaTime(p.dueAt)})`,
      text: `Hello,\n\n${p.caseNumber} (${p.customerName}): ${ALERT_WORDS[p.kind].text.en} Deadline: ${chinaTime(p.dueAt)}.`,
    }),
  }),

  fault_repair_write_up_returned: template<{ caseNumber: string; customerName: string; version: number; reviewedBy: string; comment: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 总结报告第 ${p.version} 版被退回`,
      text: `您好：\n\n${p.customerName} 的故障 ${p.caseNumber} 的总结报告第 ${p.version} 版被 ${p.reviewedBy} 退回，意见：\n${p.comment}\n\n请修改后重新提交。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Write-up version ${p.version} sent back`,
      text: `Hello,\n\n${p.reviewedBy} sent back version ${p.version} of the write-up of ${p.caseNumber} (${p.customerName}):\n${p.comment}\n\nPlease revise and submit it again.`,
    }),
  }),

  fault_repair_fault_report: template<FaultReportParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 故障解决报告`,
      text: `${p.customerName}：\n\n设备 ${p.deviceSerial} 的故障 ${p.caseNumber} 的故障解决报告如下：\n\n${faultReportText(p.report, 'zh-CN')}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Fault report`,
      text: `Dear ${p.customerName},\n\nHere is the fault report of ${p.caseNumber} on device ${p.deviceSerial}:\n\n${faultReportText(p.report, 'en')}`,
    }),
  }),

  fault_repair_follow_up_survey: template<{ caseNumber: string; customerName: string; deviceSerial: string; surveyUrl: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 服务回访与满意度调查`,
      text: `${p.customerName}：\n\n设备 ${p.deviceSerial} 的故障 ${p.caseNumber} 已处理完毕，感谢您的配合。我们的服务台将在两天内电话回访。请花一分钟为本次服务评分：\n${p.surveyUrl}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] How did we do?`,
      text: `Dear ${p.customerName},\n\nThe fault ${p.caseNumber} on device ${p.deviceSerial} is resolved; thank you for your help. Our service desk will call you within two days. Please take a minute to rate our service:\n${p.surveyUrl}`,
    }),
  }),
};
