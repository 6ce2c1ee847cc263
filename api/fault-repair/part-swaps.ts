import { z } from 'zod';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { UserRole } from '../../db/schema';
import { approveSparePartUpdate, confirmSparePartReceiptUpdate, recordSparePartShipmentUpdate } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';
import type { ApiRoutes } from '../route';
import { requiredText } from '../shared/schemas';
import { loanSchema } from '../spare-part/read-model';
import { applyForSparePart } from '../spare-part/registration';
import { stamp, update } from '../spare-part/steps';
import type { FaultRepairDependencies } from './registration';

// A part swapped on site whose failed part the customer keeps for now: the 15-working-day return rule
// of spare part first applies to it. The swap starts a spare-part loan linked to the case, already
// approved (the manager authorised the parts with the signed plan), shipped and received on the spot,
// so its return clock, reminders and overdue billing run as for any loan.

const ENGINEERS: readonly UserRole[] = ['engineer', 'senior_engineer'];
const caseParams = z.object({ caseNumber: z.string().regex(/^FR-\d{4}-\d{6}$/, 'must look like FR-2026-000042') });

export function registerPartSwapRoutes(routes: ApiRoutes, deps: FaultRepairDependencies & { links: SignedLinks }): void {
  routes.add({
    method: 'post', path: '/fault-repairs/:caseNumber/part-swaps', tag: 'Fault repair', access: { roles: ENGINEERS },
    summary: 'Record a part swapped on site whose failed part the customer keeps: starts a linked spare-part loan (approved by the signed plan, received now), due back in 15 working days',
    params: caseParams,
    body: z.object({ failedSerial: requiredText(64), replacementSerial: requiredText(64) }),
    response: { status: 201, schema: loanSchema }, errors: [404, 409, 422],
    handler: async ({ params, body, actor }) => {
      const repair = await deps.db
        .selectFrom('fault_repairs as f')
        .leftJoin('sites as s', 's.id', 'f.site_id')
        .select(['f.case_number', 'f.customer_id', 'f.contact_id', 'f.status', 'f.symptoms', 'f.plan_signed_version', 's.name as site_name', 's.address as site_address', 's.city as site_city'])
        .where('f.case_number', '=', params.caseNumber)
        .executeTakeFirst();
      if (!repair) throw ApiError.notFound('fault repair', params.caseNumber);
      if (repair.status !== 'on_site' && repair.status !== 'in_progress') {
        throw ApiError.conflict('invalid_transition', `cannot record a part swap: ${repair.case_number} is not on site (status ${repair.status})`, { status: repair.status });
      }
      const by = stamp(actor!, deps.clock);
      const loan = await applyForSparePart(
        { ...deps },
        {
          customerId: repair.customer_id,
          contactId: repair.contact_id,
          failedSerial: body.failedSerial,
          faultDescription: `Swapped on site for ${repair.case_number}: ${repair.symptoms}`,
          deliveryAddress: [repair.site_name, repair.site_address, repair.site_city].filter(Boolean).join(', ') || 'on site',
          relatedCaseNumber: repair.case_number,
        },
        by,
      );
      const authorised = `authorised with repair plan v${repair.plan_signed_version ?? '?'} of ${repair.case_number}`;
      await update(deps, loan.loanNumber, approveSparePartUpdate, { ...by, comment: authorised });
      await update(deps, loan.loanNumber, recordSparePartShipmentUpdate, { ...by, replacementSerial: body.replacementSerial, carrier: 'engineer on site', trackingNumber: repair.case_number, shippedAt: by.at });
      return update(deps, loan.loanNumber, confirmSparePartReceiptUpdate, { ...by, receivedAt: by.at, discrepancy: null });
    },
  });
}
