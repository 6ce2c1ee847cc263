import type { SlaTargetName } from '../../workflows/fault-repair/definitions';
import { template } from '../shared/email-format';

// Fault repair (P1) emails: the customer's acknowledgement with the SLA targets, the appointment, and
// the staff's SLA warnings, breach notices and maintenance-window overruns.

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
};
