import type { CloseOutAlertKind } from '../../workflows/incident-close-out/definitions';
import { chinaTime } from '../fault-repair/email-templates';
import { template } from '../shared/email-format';

// Incident close-out emails: the staff's deadline alerts (the summary report's writer chased and the
// managers told when it is late, the desk's follow-up, the coordinator's group summary), a summary
// report sent back to its writer, the desk told when a customer has no supervisor on record; the
// customised summary report to the customer's supervisor; the review meeting's invitation.

// Type aliases, not interfaces: the HTML part reads the params as a record.
type AlertParams = { caseNumber: string; customerName: string; round: number; kind: CloseOutAlertKind; dueAt: string };

const ALERT_WORDS: Record<CloseOutAlertKind, { subject: { en: string; 'zh-CN': string }; text: { en: string; 'zh-CN': string } }> = {
  summary_report_chase: {
    subject: { en: 'emergency-recovery summary report due today', 'zh-CN': '事故紧急恢复总结报告今日到期' },
    text: {
      en: 'The emergency-recovery summary report must be reviewed and customised for the customer by the deadline, and no version waits for the review; please submit it now.',
      'zh-CN': '事故紧急恢复总结报告须在期限前完成评审和客户化，目前没有待评审的版本，请尽快提交。',
    },
  },
  summary_report_missed: {
    subject: { en: 'emergency-recovery summary report late', 'zh-CN': '事故紧急恢复总结报告逾期' },
    text: {
      en: 'The emergency-recovery summary report was not reviewed and customised for the customer within 1 working day of restoration.',
      'zh-CN': '事故紧急恢复总结报告未在恢复后 1 个工作日内完成评审和客户化。',
    },
  },
  follow_up_due: {
    subject: { en: 'follow-up due', 'zh-CN': '客户回访到期' },
    text: { en: 'The follow-up with the customer (within 2 days of restoration) is due now; please call and record it.', 'zh-CN': '事故恢复后 2 天内的客户回访已到期，请回访客户并登记结果。' },
  },
  group_summary_due: {
    subject: { en: "expert group's summary due", 'zh-CN': '紧急事故处理小组总结到期' },
    text: {
      en: "The expert group's written summary of the incident (within a week of restoration) is due now and is not in; please submit it.",
      'zh-CN': '紧急事故处理小组的书面总结（恢复后一周内）已到期但尚未提交，请尽快提交。',
    },
  },
};

export const incidentCloseOutEmailTemplates = {
  incident_close_out_alert: template<AlertParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] ${ALERT_WORDS[p.kind].subject['zh-CN']}`,
      text: `您好：\n\n${p.customerName} 的事故 ${p.caseNumber}（第 ${p.round} 轮恢复）：${ALERT_WORDS[p.kind].text['zh-CN']}\n期限：${chinaTime(p.dueAt)}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] ${ALERT_WORDS[p.kind].subject.en}`,
      text: `Hello,\n\nIncident ${p.caseNumber} (${p.customerName}, restoration round ${p.round}): ${ALERT_WORDS[p.kind].text.en}\nDeadline: ${chinaTime(p.dueAt)}`,
    }),
  }),

  incident_summary_report_returned: template<{ caseNumber: string; customerName: string; version: number; reviewedBy: string; comment: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 事故紧急恢复总结报告第 ${p.version} 版被退回`,
      text: `您好：\n\n${p.reviewedBy} 退回了事故 ${p.caseNumber}（${p.customerName}）的事故紧急恢复总结报告第 ${p.version} 版：\n${p.comment}\n\n请修改后重新提交。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Emergency-recovery summary report v${p.version} sent back`,
      text: `Hello,\n\n${p.reviewedBy} sent back version ${p.version} of the emergency-recovery summary report of ${p.caseNumber} (${p.customerName}):\n${p.comment}\n\nPlease revise it and submit it again.`,
    }),
  }),

  incident_summary_report: template<{ caseNumber: string; customerName: string; recipientName: string; interruptedAt: string; restoredAt: string; report: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 事故紧急恢复总结报告`,
      text: `${p.recipientName}：\n\n现将 ${p.customerName} 事故 ${p.caseNumber} 的紧急恢复总结报告呈送如下。\n业务中断：${chinaTime(p.interruptedAt)}\n业务恢复：${chinaTime(p.restoredAt)}\n\n${p.report}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Emergency-recovery summary report`,
      text: `Dear ${p.recipientName},\n\nPlease find below the emergency-recovery summary report of incident ${p.caseNumber} (${p.customerName}).\nService interrupted: ${chinaTime(p.interruptedAt)}\nService restored: ${chinaTime(p.restoredAt)}\n\n${p.report}`,
    }),
  }),

  incident_summary_no_supervisor: template<{ caseNumber: string; customerName: string; contactName: string; contactEmail: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 客户无主管联系人：总结报告已发给工单联系人`,
      text: `您好：\n\n${p.customerName} 没有登记主管联系人，事故 ${p.caseNumber} 的事故紧急恢复总结报告已发送给工单联系人 ${p.contactName} <${p.contactEmail}>。请在主数据中补充客户主管（联系人角色 supervisor）。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] No supervisor on record: summary report sent to the case contact`,
      text: `Hello,\n\n${p.customerName} has no supervisor among its contacts, so the emergency-recovery summary report of ${p.caseNumber} went to the case contact ${p.contactName} <${p.contactEmail}>. Please record the customer's supervisor (a contact with the role supervisor) in the master data.`,
    }),
  }),

  incident_review_meeting: template<{ caseNumber: string; customerName: string; startsAt: string; endsAt: string; location: string; attendees: string; booking: number }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] ${p.booking > 1 ? '（时间变更）' : ''}事故技术总结会`,
      text: `您好：\n\n事故 ${p.caseNumber}（${p.customerName}）的技术总结会定于 ${chinaTime(p.startsAt)} 至 ${chinaTime(p.endsAt)}，地点：${p.location}。\n参会人员：${p.attendees}\n\n会议将讨论事故解决服务报告、客户回访、事故处理过程及解决方案的得失。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] ${p.booking > 1 ? '(rescheduled) ' : ''}Incident review meeting`,
      text: `Hello,\n\nThe review meeting of incident ${p.caseNumber} (${p.customerName}) is from ${chinaTime(p.startsAt)} to ${chinaTime(p.endsAt)} at ${p.location}.\nAttendees: ${p.attendees}\n\nIt discusses the incident report, the follow-up, how the incident was handled and the recovery plan: what went well and what did not.`,
    }),
  }),
};
