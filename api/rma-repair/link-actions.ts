import { z } from 'zod';
import { CONFIRM_RMA_DELIVERY_ACTION } from '../../activities/rma-repair/activities';
import { confirmRmaDeliveryUpdate, rmaRepairWorkflowId } from '../../workflows/rma-repair/definitions';
import { ApiError } from '../errors';
import { text, type LinkPage, type PageFact } from '../pages/link-page';
import { formatChinaDate, formatChinaTime, formatDate } from '../pages/strings';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { updateCase } from '../shared/process-updates';
import { optionalNote } from '../shared/schemas';
import { loadRmaRepair, type RmaRepairDto } from './read-model';
import type { RmaRepairDependencies } from './registration';

/** The customer's link from the shipment email: confirm the repaired or replacement parts arrived. */
export function rmaRepairLinkActions(deps: RmaRepairDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: CONFIRM_RMA_DELIVERY_ACTION,
      summary: 'Confirm that the repaired or replacement parts of an RMA arrived',
      body: z.object({ note: optionalNote(2000) }),
      page: deliveryPage(deps),
      perform: async ({ claims, body }) => {
        const row = await deps.db.selectFrom('rma_repairs').select('case_number').where('case_id', '=', claims.caseId).executeTakeFirst();
        if (!row?.case_number) throw ApiError.notFound('RMA repair for case', claims.caseId);
        const caseNumber = row.case_number;
        const at = deps.clock.now().toISOString();
        const rma = await updateCase(
          deps.temporal,
          (withTimeline) => loadRmaRepair(deps.db, caseNumber, withTimeline),
          rmaRepairWorkflowId(caseNumber),
          confirmRmaDeliveryUpdate,
          { actor: 'customer contact', role: 'customer', at, receivedAt: at, note: body.note },
        );
        return { caseNumber: rma.caseNumber, status: rma.status, parts: rma.parts.map((part) => ({ line: part.line, serial: part.replacementSerial ?? part.deviceSerial, warrantyEnd: part.warrantyEnd })) };
      },
    }),
  ];
}

function partFacts(rma: RmaRepairDto): PageFact[] {
  return rma.parts.map((part) => {
    const warranty = part.warrantyEnd ? { en: `, under warranty until ${formatDate(part.warrantyEnd, 'en')}`, zh: `，保修至 ${formatDate(part.warrantyEnd, 'zh-CN')}` } : { en: '', zh: '' };
    return {
      label: text(`Part ${part.line}`, `部件 ${part.line}`),
      value: part.replacementSerial
        ? text(`${part.deviceSerial} replaced by ${part.replacementSerial}${warranty.en}`, `${part.deviceSerial} 已更换为 ${part.replacementSerial}${warranty.zh}`)
        : text(`${part.deviceSerial} repaired${warranty.en}`, `${part.deviceSerial} 已修复${warranty.zh}`),
    };
  });
}

/** The receipt confirmation a contact opens from the shipment email (or its reminder). */
function deliveryPage(deps: RmaRepairDependencies): LinkPage {
  return {
    title: text('Confirm receipt of your repaired parts', '确认签收返修件'),
    submitLabel: text('Confirm receipt', '确认签收'),
    fields: [
      {
        name: 'note', kind: 'textarea', required: false, maxLength: 2000,
        label: text('Remarks', '备注'),
        hint: text('Anything that does not match (another serial number, damage in transit). Leave it empty if all is well.', '如有不符（序列号不一致、运输损坏等）请注明；一切正常请留空。'),
      },
    ],
    async describe(claims) {
      const found = z.uuid().safeParse(claims.caseId).success
        ? await deps.db
            .selectFrom('rma_repairs as r')
            .innerJoin('contacts as k', 'k.id', 'r.contact_id')
            .select(['r.case_number', 'k.name', 'k.locale'])
            .where('r.case_id', '=', claims.caseId)
            .executeTakeFirst()
        : undefined;
      if (!found?.case_number) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no RMA for the case' });
      const rma = await loadRmaRepair(deps.db, found.case_number, false);
      const facts: PageFact[] = [
        { label: text('RMA number', 'RMA 编号'), value: rma.caseNumber },
        { label: text('Carrier', '承运商'), value: rma.shipment?.carrier ?? '-' },
        { label: text('Tracking number', '运单号'), value: rma.shipment?.trackingNumber ?? '-' },
        ...partFacts(rma),
      ];
      if (rma.status !== 'shipped') {
        return {
          kind: 'closed',
          locale: found.locale,
          recipientName: found.name,
          message: rma.delivery.confirmedAt
            ? text(
                `The receipt of these parts was already recorded on ${formatChinaTime(new Date(rma.delivery.confirmedAt), 'en')} (China time).`,
                `这些部件已于 ${formatChinaTime(new Date(rma.delivery.confirmedAt), 'zh-CN')}（北京时间）登记签收。`,
              )
            : text(`RMA ${rma.caseNumber} does not wait for a receipt confirmation.`, `RMA ${rma.caseNumber} 无需确认签收。`),
          facts,
        };
      }
      const shippedOn = rma.shipment ? new Date(rma.shipment.shippedAt) : null;
      return {
        kind: 'form',
        locale: found.locale,
        recipientName: found.name,
        intro: text(
          `The parts of RMA ${rma.caseNumber} were shipped back to you${shippedOn ? ` on ${formatChinaDate(shippedOn, 'en')}` : ''}. When they arrive, please confirm receipt here.`,
          `RMA ${rma.caseNumber} 的部件已${shippedOn ? `于 ${formatChinaDate(shippedOn, 'zh-CN')}` : ''}寄回。收到后请在此确认签收。`,
        ),
        facts,
      };
    },
    done(result) {
      const caseNumber = String(result.caseNumber);
      return {
        message: text(`Thank you: the receipt of RMA ${caseNumber} is confirmed and the RMA is closed.`, `谢谢，RMA ${caseNumber} 已确认签收并结案。`),
        facts: [{ label: text('RMA number', 'RMA 编号'), value: caseNumber }],
      };
    },
  };
}
