import { z } from 'zod';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { UserRole } from '../../db/schema';
import { FAULT_SEVERITIES } from '../../workflows/fault-repair/definitions';
import { text, type LinkPage } from '../pages/link-page';
import type { ApiRoutes } from '../route';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { contactLinkResponse, contactOfLink, emailContactLink } from '../shared/contact-links';
import { optionalNote, requiredText } from '../shared/schemas';
import { registerFaultRepair, type FaultRepairDependencies } from './registration';

// A customer reports a fault themselves: the desk emails a contact a single-use link, and its page
// registers the fault exactly as the desk would (the same checks, the same SLA clocks).

export const REPORT_FAULT_ACTION = 'fault-repair.report';
const REPORT_LINK_TTL_HOURS = 24 * 30;
const DESK: readonly UserRole[] = ['service_desk', 'manager'];
/** Report links are issued to a contact, before any case exists: their subject names the contact. */
const contactScope = (contactId: string) => `fault-report:contact:${contactId}`;

const customerReportSchema = z.object({
  deviceSerial: requiredText(64),
  symptoms: requiredText(4000),
  actionsTaken: optionalNote(4000),
  suspectedCause: optionalNote(4000),
  severity: z.enum(FAULT_SEVERITIES),
});

type ReportDependencies = FaultRepairDependencies & { links: SignedLinks };

const contactOfApplicationLink = (deps: ReportDependencies, subject: string) => contactOfLink(deps.db, contactScope, subject);

function reportPage(deps: ReportDependencies): LinkPage {
  return {
    title: text('Report a fault', '故障报修'),
    submitLabel: text('Report the fault', '提交报修'),
    fields: [
      { name: 'deviceSerial', kind: 'text', required: true, maxLength: 64, label: text('Serial number of the device', '设备序列号'), hint: text('As printed on the device label.', '见设备铭牌。') },
      { name: 'symptoms', kind: 'textarea', required: true, maxLength: 4000, label: text('What happens (symptoms, alarms, users affected)', '故障现象（告警、受影响用户等）') },
      { name: 'actionsTaken', kind: 'textarea', required: false, maxLength: 4000, label: text('What you already tried', '已采取的措施') },
      { name: 'suspectedCause', kind: 'textarea', required: false, maxLength: 4000, label: text('Suspected cause, if any', '可能原因（如有）') },
      {
        name: 'severity', kind: 'choice', required: true, label: text('How severe is it?', '严重程度'),
        choices: [
          { value: 'critical', label: text('Critical: the service is down for many users', '紧急：大量用户业务中断') },
          { value: 'major', label: text('Major: the service is badly degraded', '重大：业务严重受损') },
          { value: 'serious', label: text('Serious: part of the service is affected', '严重：部分业务受影响') },
          { value: 'minor', label: text('Minor: no service impact yet', '一般：暂不影响业务') },
        ],
      },
    ],
    async describe(claims) {
      const contact = await contactOfApplicationLink(deps, claims.caseId);
      return {
        kind: 'form',
        locale: contact.locale,
        recipientName: contact.name,
        intro: text('Tell us about the fault; we answer with a case number and the times we commit to.', '请描述故障，我们将回复工单号及服务承诺时限。'),
        facts: [{ label: text('Customer', '客户'), value: contact.customer_name }],
      };
    },
    done(result) {
      return {
        message: text('Thank you: the fault is registered. You will receive an email with the case number and our response times.', '谢谢，故障已登记。您将收到含工单号和响应时限的邮件。'),
        facts: [{ label: text('Case', '工单'), value: typeof result.caseNumber === 'string' ? result.caseNumber : '' }],
      };
    },
  };
}

export function faultReportLinkActions(deps: ReportDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: REPORT_FAULT_ACTION,
      summary: 'Report a fault on a device of the installed base (serial, symptoms, what was tried, severity)',
      body: customerReportSchema,
      page: reportPage(deps),
      perform: async ({ claims, body }) => {
        const contact = await contactOfApplicationLink(deps, claims.caseId);
        const at = deps.clock.now().toISOString();
        const registered = await registerFaultRepair(
          deps,
          {
            customerId: contact.customer_id,
            contactId: contact.id,
            deviceSerial: body.deviceSerial,
            siteId: null,
            symptoms: body.symptoms,
            actionsTaken: body.actionsTaken ?? 'none',
            suspectedCause: body.suspectedCause ?? 'unknown',
            severity: body.severity,
          },
          { actor: contact.name, role: 'customer', at },
        );
        return { caseNumber: registered.caseNumber, status: registered.status };
      },
    }),
  ];
}

/** POST /fault-repairs/report-links: the desk emails a contact a single-use link to report a fault themselves. */
export function registerFaultReportLinkRoutes(routes: ApiRoutes, deps: ReportDependencies): void {
  routes.add({
    method: 'post', path: '/fault-repairs/report-links', tag: 'Fault repair', summary: 'Email a customer contact a single-use link to report a fault themselves (queued, sent by the outbox relay)', access: { roles: DESK },
    body: z.object({ contactId: z.uuid() }),
    response: { status: 201, schema: contactLinkResponse },
    handler: async ({ body }) =>
      emailContactLink(deps, {
        contactId: body.contactId,
        subject: contactScope,
        action: REPORT_FAULT_ACTION,
        ttlHours: REPORT_LINK_TTL_HOURS,
        keyPrefix: 'fault-repair/report-link',
        email: ({ customerName, url, expiresOn }) => ({ template: 'fault_repair_report_link', params: { customerName, reportUrl: url, expiresOn } }),
      }),
  });
}
