import { template } from '../shared/email-format';

// Batch rectification, per customer: the software fix sent to the customer with the link on which
// they confirm, device by device, that they applied it (or ask for an engineer); the confirmation that
// their refusal was recorded.

type SoftwareKitParams = {
  campaignNumber: string;
  customerName: string;
  title: string;
  version: string;
  patch: string | null;
  guide: string;
  instructions: string;
  serials: string[];
  applyUrl: string;
  expiresOn: string;
};
type DeclineParams = { campaignNumber: string; customerName: string; title: string; devices: number; reason: string };

export const rectificationCampaignEmailTemplates = {
  rectification_software_kit: template<SoftwareKitParams>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] ${p.title}：软件整改（${p.version}）`,
      text:
        `${p.customerName}：\n\n请按以下指导为贵方设备升级软件：\n版本：${p.version}\n` +
        (p.patch ? `补丁：${p.patch}\n` : '') +
        `操作指导：${p.guide}\n${p.instructions}\n\n涉及设备（${p.serials.length} 台）：${p.serials.join('、')}\n\n` +
        `每台设备完成后请在以下页面逐台确认；如需我方工程师上门，也请在该页面提出：\n${p.applyUrl}\n（链接有效期至 ${p.expiresOn.slice(0, 10)}）`,
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] ${p.title}: software rectification (${p.version})`,
      text:
        `Dear ${p.customerName},\n\nPlease update the software of your devices as follows:\nVersion: ${p.version}\n` +
        (p.patch ? `Patch: ${p.patch}\n` : '') +
        `Guide: ${p.guide}\n${p.instructions}\n\nDevices (${p.serials.length}): ${p.serials.join(', ')}\n\n` +
        `Confirm each device on this page once it is done, or ask there for one of our engineers to do it on site:\n${p.applyUrl}\n(valid until ${p.expiresOn.slice(0, 10)})`,
    }),
  }),
  rectification_declined: template<DeclineParams>({
    'zh-CN': (p) => ({
      subject: `[${p.campaignNumber}] 已登记贵方不参加整改`,
      text: `${p.customerName}：\n\n我们已登记贵方不参加"${p.title}"整改（${p.devices} 台设备），并存档贵方的书面说明。\n原因：${p.reason}\n\n如需重新安排，请随时与我们联系。`,
    }),
    en: (p) => ({
      subject: `[${p.campaignNumber}] Your refusal of the rectification is recorded`,
      text: `Dear ${p.customerName},\n\nWe recorded that you decline the rectification "${p.title}" (${p.devices} devices), with your written notice on file.\nReason: ${p.reason}\n\nContact us at any time should you wish to have it done after all.`,
    }),
  }),
};
