import { formatDate, template } from '../shared/email-format';
import { chinaTime } from '../fault-repair/email-templates';

// RMA repair (P5) emails: the customer's return instructions (address and RMA number), the request for
// the right part after a serial mismatch, the receipt with the ship-back date, the shipment with its
// confirmation link, and its chase; the managers' notices before and when a ship-back date is missed.

// Type aliases, not interfaces: the HTML part reads the params as a record.
type PartLine = { line: number; serial: string; faultDescription: string };
type ShippedPart = { line: number; serial: string; outcome: 'repaired' | 'replaced'; newSerial: string | null; warrantyEnd: string };

const partList = (parts: PartLine[]) => parts.map((part) => `  ${part.line}. ${part.serial}: ${part.faultDescription}`).join('\n');

export const rmaRepairEmailTemplates = {
  rma_repair_opened: template<{ caseNumber: string; customerName: string; returnAddress: string; parts: PartLine[] }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 返修（RMA）已受理，请寄回故障件`,
      text:
        `${p.customerName}：\n\n我们已受理您的返修申请，RMA 编号 ${p.caseNumber}。请将以下故障件寄至：\n${p.returnAddress}\n\n` +
        `请在包裹和装箱单上注明 RMA 编号 ${p.caseNumber}。\n\n返修件：\n${partList(p.parts)}\n\n我们签收后会核对序列号，并通过邮件告知寄回期限。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] RMA repair opened: please send the parts back`,
      text:
        `Dear ${p.customerName},\n\nYour repair is registered under RMA number ${p.caseNumber}. Please send the failed parts to:\n${p.returnAddress}\n\n` +
        `Write the RMA number ${p.caseNumber} on the parcel and the packing list.\n\nParts:\n${partList(p.parts)}\n\nWe check each serial number on arrival and email you the date by which we ship them back.`,
    }),
  }),

  rma_repair_right_part_requested: template<{ caseNumber: string; customerName: string; returnAddress: string; line: number; expectedSerial: string; receivedSerial: string; comment: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 收到的返修件序列号不符，请寄回正确部件`,
      text:
        `${p.customerName}：\n\nRMA ${p.caseNumber} 第 ${p.line} 项应为序列号 ${p.expectedSerial} 的部件，我们收到的是 ${p.receivedSerial}。\n说明：${p.comment}\n\n` +
        `请将正确的部件寄至：\n${p.returnAddress}\n并注明 RMA 编号 ${p.caseNumber}。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] The part we received does not match: please send the right one`,
      text:
        `Dear ${p.customerName},\n\nLine ${p.line} of RMA ${p.caseNumber} is the part with serial ${p.expectedSerial}; the part we received has serial ${p.receivedSerial}.\nNote: ${p.comment}\n\n` +
        `Please send the right part to:\n${p.returnAddress}\nmarked with the RMA number ${p.caseNumber}.`,
    }),
  }),

  rma_repair_received: template<{ caseNumber: string; customerName: string; parts: PartLine[]; shipBackDueAt: string; provisional: boolean }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 返修件已签收`,
      text:
        `${p.customerName}：\n\nRMA ${p.caseNumber} 的返修件已全部签收：\n${partList(p.parts)}\n\n` +
        `按合同服务等级，我们将在 ${chinaTime(p.shipBackDueAt)} 前寄回修复件或替换件${p.provisional ? '（暂定：相关节假日安排尚未公布）' : ''}。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Your parts have arrived`,
      text:
        `Dear ${p.customerName},\n\nAll parts of RMA ${p.caseNumber} have arrived:\n${partList(p.parts)}\n\n` +
        `Under your contract's service level we ship the repaired or replacement parts back by ${chinaTime(p.shipBackDueAt)}${p.provisional ? ' (provisional: the holiday calendar for that period is not yet published)' : ''}.`,
    }),
  }),

  rma_repair_shipped: template<{ caseNumber: string; customerName: string; carrier: string; trackingNumber: string; parts: ShippedPart[]; confirmUrl: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 返修件已寄回，请确认签收`,
      text:
        `${p.customerName}：\n\nRMA ${p.caseNumber} 的部件已通过 ${p.carrier} 寄出，运单号 ${p.trackingNumber}：\n` +
        p.parts
          .map((part) =>
            part.outcome === 'replaced'
              ? `  ${part.line}. ${part.serial}：已更换为新部件 ${part.newSerial ?? ''}，保修至 ${formatDate['zh-CN'](part.warrantyEnd)}`
              : `  ${part.line}. ${part.serial}：已修复，保修至 ${formatDate['zh-CN'](part.warrantyEnd)}`,
          )
          .join('\n') +
        `\n\n收到后请通过以下链接确认签收：\n${p.confirmUrl}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Your parts are on their way back: please confirm receipt`,
      text:
        `Dear ${p.customerName},\n\nThe parts of RMA ${p.caseNumber} left with ${p.carrier}, tracking number ${p.trackingNumber}:\n` +
        p.parts
          .map((part) =>
            part.outcome === 'replaced'
              ? `  ${part.line}. ${part.serial}: replaced by a new part ${part.newSerial ?? ''}, under warranty until ${formatDate.en(part.warrantyEnd)}`
              : `  ${part.line}. ${part.serial}: repaired, under warranty until ${formatDate.en(part.warrantyEnd)}`,
          )
          .join('\n') +
        `\n\nWhen they arrive, please confirm receipt here:\n${p.confirmUrl}`,
    }),
  }),

  rma_repair_delivery_reminder: template<{ caseNumber: string; customerName: string; carrier: string; trackingNumber: string; confirmUrl: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 请确认返修件签收`,
      text: `${p.customerName}：\n\nRMA ${p.caseNumber} 的部件已通过 ${p.carrier}（运单号 ${p.trackingNumber}）寄出，我们尚未收到您的签收确认。\n收到后请通过以下链接确认：\n${p.confirmUrl}\n\n如未收到，请回复此邮件告知我们。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Please confirm receipt of your parts`,
      text: `Dear ${p.customerName},\n\nThe parts of RMA ${p.caseNumber} were shipped with ${p.carrier} (tracking number ${p.trackingNumber}) and we have no confirmation of receipt yet.\nWhen they have arrived, please confirm here:\n${p.confirmUrl}\n\nIf they have not arrived, please reply to this email.`,
    }),
  }),

  rma_repair_ship_back_due_soon: template<{ caseNumber: string; customerName: string; dueAt: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 返修件寄回期限临近`,
      text: `RMA ${p.caseNumber}（${p.customerName}）的部件须在 ${chinaTime(p.dueAt)} 前寄回，目前尚未寄出。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] RMA ship-back deadline approaching`,
      text: `The parts of RMA ${p.caseNumber} (${p.customerName}) are due to ship back by ${chinaTime(p.dueAt)} and have not shipped yet.`,
    }),
  }),

  rma_repair_ship_back_missed: template<{ caseNumber: string; customerName: string; dueAt: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 返修件寄回逾期`,
      text: `RMA ${p.caseNumber}（${p.customerName}）的部件未能在服务等级期限 ${chinaTime(p.dueAt)} 前寄回，请尽快处理。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] RMA ship-back deadline missed`,
      text: `The parts of RMA ${p.caseNumber} (${p.customerName}) were not shipped back by the service-level deadline ${chinaTime(p.dueAt)}. Please see to it.`,
    }),
  }),
};
