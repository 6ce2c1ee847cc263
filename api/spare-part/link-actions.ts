import { z } from 'zod';
import { CONFIRM_RECEIPT_ACTION } from '../../activities/spare-part/activities';
import { confirmSparePartReceiptUpdate } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';
import { optionalNote } from '../shared/schemas';
import { applyForSparePart, customerApplicationSchema } from './registration';
import { update, type SparePartDependencies } from './steps';
import { defineLinkAction, type LinkAction } from '../routes/links';

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

