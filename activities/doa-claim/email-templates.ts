import { formatDate, template } from '../shared/email-format';

// DOA claim (P5) emails: to the customer the acknowledgement with the evidence link, the decision
// (every reason when rejected, with the offer of an RMA repair), the new unit's shipment with the
// receipt link, and the end of an unanswered offer; to the staff the approval and shipping requests.

// Type aliases, not interfaces: the HTML part reads the params as a record.
type Reason = { en: string; zh: string };
type ClaimParams = { caseNumber: string; customerName: string; deviceSerial: string };

const reasonLines = (reasons: readonly Reason[], locale: 'en' | 'zh'): string => reasons.map((reason, index) => `${index + 1}. ${reason[locale]}`).join('\n');

export const doaClaimEmailTemplates = {
  doa_claim_application_link: template<{ customerName: string; applyUrl: string; expiresOn: string }>({
    'zh-CN': (p) => ({
      subject: 'DOA（到货即损）申请链接',
      text: `${p.customerName}：\n\n请通过以下链接提交 DOA 申请（设备序列号、到货日期、首次上电时间、故障时间和现象）：\n${p.applyUrl}\n\n提交后您将收到上传申请表和照片的链接。链接仅可使用一次，有效期至 ${formatDate['zh-CN'](p.expiresOn)}。`,
    }),
    en: (p) => ({
      subject: 'Your DOA (dead on arrival) application link',
      text: `Dear ${p.customerName},\n\nApply for DOA here (device serial, arrival date, first power-on, when it failed and how):\n${p.applyUrl}\n\nYou will then get a link to upload the application form and photos. The link works once and expires on ${formatDate.en(p.expiresOn)}.`,
    }),
  }),

  doa_claim_received: template<ClaimParams & { evidenceUrl: string; evidenceItems: string[] }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] 已收到设备 ${p.deviceSerial} 的 DOA 申请`,
      text:
        `${p.customerName}：\n\n我们已收到设备 ${p.deviceSerial} 的 DOA 申请（编号 ${p.caseNumber}）。\n` +
        `请通过以下链接上传证据：\n${p.evidenceUrl}\n\n需要的证据：\n${p.evidenceItems.map((item) => `- ${item}`).join('\n')}\n\n我们将根据证据逐项核对 DOA 条件后通知您结果。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] DOA claim received for device ${p.deviceSerial}`,
      text:
        `Dear ${p.customerName},\n\nWe have received the DOA claim ${p.caseNumber} for device ${p.deviceSerial}.\n` +
        `Please upload the evidence here:\n${p.evidenceUrl}\n\nWhat we need:\n${p.evidenceItems.map((item) => `- ${item}`).join('\n')}\n\nWe check every DOA condition against it and tell you the decision.`,
    }),
  }),

  doa_claim_accepted: template<ClaimParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] DOA 申请已受理：我们将为您更换新设备`,
      text: `${p.customerName}：\n\n设备 ${p.deviceSerial} 符合 DOA 条件。我们将为您更换一台新设备（而非维修），发货后另行通知。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] DOA claim accepted: we will replace the unit with a new one`,
      text: `Dear ${p.customerName},\n\nDevice ${p.deviceSerial} meets every DOA condition. We will replace it with a new unit (not a repair) and tell you when it ships.`,
    }),
  }),

  doa_claim_rejected: template<ClaimParams & { reasons: Reason[]; carrierClaimAdvised: boolean; convertUrl: string; offerEndsOn: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] DOA 申请未获受理`,
      text:
        `${p.customerName}：\n\n很抱歉，设备 ${p.deviceSerial} 的 DOA 申请未获受理，原因如下：\n${reasonLines(p.reasons, 'zh')}\n\n` +
        (p.carrierClaimAdvised ? '设备有物理损伤，请向承运商索赔。\n\n' : '') +
        `我们可以按 RMA 返修流程为您维修该设备。请在 ${formatDate['zh-CN'](p.offerEndsOn)} 前通过以下链接选择是否转为 RMA 返修：\n${p.convertUrl}`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] DOA claim not accepted`,
      text:
        `Dear ${p.customerName},\n\nWe are sorry: the DOA claim for device ${p.deviceSerial} was not accepted, for these reasons:\n${reasonLines(p.reasons, 'en')}\n\n` +
        (p.carrierClaimAdvised ? 'The unit is physically damaged: please claim against the carrier.\n\n' : '') +
        `We can repair the unit under an RMA instead. Please accept or decline by ${formatDate.en(p.offerEndsOn)} here:\n${p.convertUrl}`,
    }),
  }),

  doa_replacement_approval_requested: template<ClaimParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] DOA 已受理，请审批更换新设备`,
      text: `${p.customerName} 的设备 ${p.deviceSerial} 的 DOA 申请符合全部条件，请审批为其更换新设备（POST /doa-claims/${p.caseNumber}/replacement-approval）。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] DOA accepted: approve a new unit`,
      text: `The DOA claim for ${p.customerName}'s device ${p.deviceSerial} meets every condition. Please approve a new unit (POST /doa-claims/${p.caseNumber}/replacement-approval).`,
    }),
  }),

  doa_replacement_to_ship: template<ClaimParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] DOA 新设备已批准，请发货`,
      text: `已批准为 ${p.customerName} 更换设备 ${p.deviceSerial} 的新设备，请发货并登记序列号和运单号（POST /doa-claims/${p.caseNumber}/shipment）。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] DOA new unit approved: please ship it`,
      text: `A new unit replacing ${p.customerName}'s device ${p.deviceSerial} is approved. Please ship it and record its serial and tracking number (POST /doa-claims/${p.caseNumber}/shipment).`,
    }),
  }),

  doa_replacement_shipped: template<ClaimParams & { newSerial: string; carrier: string; trackingNumber: string; confirmReceiptUrl: string; warrantyEnd: string; returnAddress: string }>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] DOA 新设备已发货，请签收确认`,
      text:
        `${p.customerName}：\n\n新设备 ${p.newSerial} 已由 ${p.carrier} 发出，运单号 ${p.trackingNumber}。收到后请点击以下链接确认签收：\n${p.confirmReceiptUrl}\n\n` +
        `新设备保修至 ${formatDate['zh-CN'](p.warrantyEnd)}。\n请将 DOA 设备 ${p.deviceSerial} 连同原包装、包装材料和全部附件寄回：\n${p.returnAddress}\n并注明编号 ${p.caseNumber}。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] Your new unit has shipped: please confirm receipt`,
      text:
        `Dear ${p.customerName},\n\nNew unit ${p.newSerial} has shipped with ${p.carrier}, tracking number ${p.trackingNumber}. When it arrives, please confirm receipt here:\n${p.confirmReceiptUrl}\n\n` +
        `The new unit is under warranty until ${formatDate.en(p.warrantyEnd)}.\nPlease send the DOA unit ${p.deviceSerial} back in its original packaging, with its packing materials and all accessories, to:\n${p.returnAddress}\nquoting ${p.caseNumber}.`,
    }),
  }),

  doa_conversion_lapsed: template<ClaimParams>({
    'zh-CN': (p) => ({
      subject: `[${p.caseNumber}] RMA 返修提议已过期，DOA 申请已关闭`,
      text: `${p.customerName}：\n\n设备 ${p.deviceSerial} 的 RMA 返修提议未在期限内答复，DOA 申请 ${p.caseNumber} 已关闭。如仍需维修，请联系服务台。`,
    }),
    en: (p) => ({
      subject: `[${p.caseNumber}] The offer of an RMA repair expired; DOA claim closed`,
      text: `Dear ${p.customerName},\n\nThe offer to repair device ${p.deviceSerial} under an RMA was not answered in time, so DOA claim ${p.caseNumber} is closed. If you still want it repaired, please contact the service desk.`,
    }),
  }),
};
