import { z } from 'zod';
import { CONFIRM_RECEIPT_ACTION } from '../../activities/spare-part/activities';
import { confirmSparePartReceiptUpdate } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';
import { optionalNote } from '../shared/schemas';
import { applyForSparePart, customerApplicationSchema } from './registration';
import { update, type SparePartDependencies } from './steps';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { text, type LinkPage, type PageFact } from '../pages/link-page';
import { formatChinaDate, formatChinaTime, formatDate } from '../pages/strings';

export const APPLY_ACTION = 'spare-part.apply';
export const APPLICATION_LINK_TTL_HOURS = 24 * 14;
/** Application links are issued to a contact, before any case exists: their scope names the contact. */
export const contactScope = (contactId: string) => `contact:${contactId}`;

export function sparePartLinkActions(deps: SparePartDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: APPLY_ACTION,
      summary: 'Apply for a spare-part-first loan (failed device serial, fault, delivery address)',
      body: customerApplicationSchema,
      page: applicationPage(deps),
      perform: async ({ claims, body }) => {
        const contactId = claims.caseId.slice(contactScope('').length);
        const contact = await deps.db.selectFrom('contacts').select(['id', 'name', 'customer_id']).where('id', '=', contactId).executeTakeFirst();
        if (!contact || claims.caseId !== contactScope(contact.id)) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'unknown contact' });
        const loan = await applyForSparePart(deps, { ...body, customerId: contact.customer_id, contactId: contact.id }, { actor: contact.name, role: 'customer', at: deps.clock.now().toISOString() });
        return { loanNumber: loan.loanNumber, status: loan.status };
      },
    }),
    defineLinkAction({
      action: CONFIRM_RECEIPT_ACTION,
      summary: 'Confirm that the replacement part arrived, noting any discrepancy',
      body: z.object({ discrepancy: optionalNote(2000) }),
      page: receiptPage(deps),
      perform: async ({ claims, body }) => {
        const loan = await deps.db.selectFrom('spare_part_loans').select('loan_number').where('case_id', '=', claims.caseId).executeTakeFirst();
        if (!loan) throw ApiError.notFound('spare-part loan for case', claims.caseId);
        const at = deps.clock.now().toISOString();
        const result = await update(deps, loan.loan_number, confirmSparePartReceiptUpdate, { actor: 'customer contact', role: 'customer', at, receivedAt: at, discrepancy: body.discrepancy });
        return { loanNumber: result.loanNumber, status: result.status, returnDeadline: result.returnDeadline };
      },
    }),
  ];
}


/** The application form a contact opens from the emailed link. */
function applicationPage(deps: SparePartDependencies): LinkPage {
  return {
    title: text('Apply for a spare part first', '备件先行申请'),
    submitLabel: text('Send the application', '提交申请'),
    fields: [
      { name: 'failedSerial', kind: 'text', required: true, maxLength: 64, label: text('Serial number of the failed device', '故障设备序列号'), hint: text('As printed on the device label.', '见设备铭牌。') },
      { name: 'faultDescription', kind: 'textarea', required: true, maxLength: 2000, label: text('Fault description', '故障现象') },
      { name: 'deliveryAddress', kind: 'textarea', required: true, maxLength: 500, autocomplete: 'street-address', label: text('Delivery address for the replacement', '备件收货地址') },
      {
        name: 'relatedCaseNumber', kind: 'text', required: false, maxLength: 32,
        label: text('Related case number', '相关工单号'), hint: text('The fault-repair or incident case this belongs to, if any.', '所属的故障维修或事件工单（如有）。'),
      },
    ],
    async describe(claims) {
      const contactId = claims.caseId.slice(contactScope('').length);
      const contact = z.uuid().safeParse(contactId).success
        ? await deps.db
            .selectFrom('contacts')
            .innerJoin('customers', 'customers.id', 'contacts.customer_id')
            .select(['contacts.id', 'contacts.name', 'contacts.locale', 'customers.name as customerName'])
            .where('contacts.id', '=', contactId)
            .executeTakeFirst()
        : undefined;
      if (!contact || claims.caseId !== contactScope(contact.id)) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'unknown contact' });
      return {
        kind: 'form',
        locale: contact.locale,
        recipientName: contact.name,
        intro: text(
          'Tell us which device failed and where to deliver the replacement. A technical manager reviews the application; we email you the decision.',
          '请填写故障设备和备件收货地址。技术经理审批后，我们会通过邮件通知您结果。',
        ),
        facts: [
          { label: text('Customer', '客户'), value: contact.customerName },
          { label: text('Applicant', '申请人'), value: contact.name },
        ],
        notes: [
          text(
            'Once the replacement arrives, the failed part (with its fault tag) is due back within 15 China working days; a part not returned is billed at list price.',
            '备件签收后，请在 15 个工作日内将故障件连同故障标签寄回；逾期未归还将按目录价计费。',
          ),
        ],
      };
    },
    done(result) {
      const loanNumber = String(result.loanNumber);
      return {
        message: text(
          `We have received your application ${loanNumber}. It waits for the technical manager's approval; we will email you the decision.`,
          `我们已收到您的申请 ${loanNumber}，正在等待技术经理审批，结果将通过邮件通知您。`,
        ),
        facts: [{ label: text('Application number', '申请编号'), value: loanNumber }],
      };
    },
  };
}

/** The receipt confirmation a contact opens from the shipment email. */
function receiptPage(deps: SparePartDependencies): LinkPage {
  const loanFacts = (loan: { loan_number: string; replacement_serial: string | null; carrier: string | null; tracking_number: string | null }): PageFact[] => [
    { label: text('Loan number', '借用编号'), value: loan.loan_number },
    { label: text('Replacement serial number', '备件序列号'), value: loan.replacement_serial ?? '-' },
    { label: text('Carrier', '承运商'), value: loan.carrier ?? '-' },
    { label: text('Tracking number', '运单号'), value: loan.tracking_number ?? '-' },
  ];
  return {
    title: text('Confirm receipt of your replacement part', '确认签收备件'),
    submitLabel: text('Confirm receipt', '确认签收'),
    fields: [
      {
        name: 'discrepancy', kind: 'textarea', required: false, maxLength: 2000,
        label: text('Discrepancy', '差异说明'),
        hint: text(
          'Anything that does not match: another serial number, damaged packaging, missing parts. Leave it empty if all is well.',
          '如有不符（序列号不一致、包装破损、配件缺失等）请注明；一切正常请留空。',
        ),
      },
    ],
    async describe(claims) {
      const loan = z.uuid().safeParse(claims.caseId).success
        ? await deps.db
            .selectFrom('spare_part_loans')
            .innerJoin('contacts', 'contacts.id', 'spare_part_loans.contact_id')
            .select([
              'spare_part_loans.loan_number', 'spare_part_loans.status', 'spare_part_loans.replacement_serial', 'spare_part_loans.carrier',
              'spare_part_loans.tracking_number', 'spare_part_loans.shipped_at', 'spare_part_loans.received_at', 'contacts.name', 'contacts.locale',
            ])
            .where('spare_part_loans.case_id', '=', claims.caseId)
            .executeTakeFirst()
        : undefined;
      if (!loan) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no loan for the case' });
      const facts = loanFacts(loan);
      if (loan.status !== 'shipped') {
        return {
          kind: 'closed',
          locale: loan.locale,
          recipientName: loan.name,
          message: loan.received_at
            ? text(
                `The receipt of this part was already recorded on ${formatChinaTime(new Date(loan.received_at), 'en')} (China time).`,
                `该备件已于 ${formatChinaTime(new Date(loan.received_at), 'zh-CN')}（北京时间）登记签收。`,
              )
            : text(`Loan ${loan.loan_number} no longer waits for a receipt confirmation.`, `借用 ${loan.loan_number} 已无需确认签收。`),
          facts,
        };
      }
      return {
        kind: 'form',
        locale: loan.locale,
        recipientName: loan.name,
        intro: text(
          `Replacement part ${loan.replacement_serial ?? ''} was shipped to you${loan.shipped_at ? ` on ${formatChinaDate(new Date(loan.shipped_at), 'en')}` : ''}. When it arrives, please confirm receipt here, noting anything that does not match.`,
          `备件 ${loan.replacement_serial ?? ''} 已${loan.shipped_at ? `于 ${formatChinaDate(new Date(loan.shipped_at), 'zh-CN')}` : ''}发出。收到后请在此确认签收，并注明任何差异。`,
        ),
        facts,
        notes: [
          text(
            'After you confirm, the failed part (with its fault tag) is due back within 15 China working days of receipt: the next page shows the date, and we email it to you. A part not returned in time is billed at list price.',
            '确认签收后，请在 15 个工作日内将故障件连同故障标签寄回：下一页将显示截止日期，我们也会通过邮件通知您。逾期未归还将按目录价计费。',
          ),
        ],
      };
    },
    done(result) {
      const loanNumber = String(result.loanNumber);
      const deadline = result.returnDeadline as { dueDate: string; provisional: boolean } | null | undefined;
      const facts: PageFact[] = [{ label: text('Loan number', '借用编号'), value: loanNumber }];
      if (deadline) {
        facts.push({
          label: text('Return the failed part by', '故障件归还截止'),
          value: text(
            `${formatDate(deadline.dueDate, 'en')} 23:59 (China time)${deadline.provisional ? ' *' : ''}`,
            `${formatDate(deadline.dueDate, 'zh-CN')} 23:59（北京时间）${deadline.provisional ? ' *' : ''}`,
          ),
        });
      }
      return {
        message: text(
          `Thank you: the receipt of loan ${loanNumber} is confirmed. Please send the failed part, with its fault tag, back by the date below.` +
            (deadline?.provisional ? ' * Provisional: the holiday calendar for that period is not yet published.' : ''),
          `谢谢，借用 ${loanNumber} 的备件已确认签收。请在以下日期前将故障件连同故障标签寄回。` + (deadline?.provisional ? ' * 暂定期限：相关节假日安排尚未公布。' : ''),
        ),
        facts,
      };
    },
  };
}
