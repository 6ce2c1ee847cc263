import { z } from 'zod';
import type { UserRole } from '../../db/schema';
import { shanghaiDate } from '../../workflows/rules/time';
import { SPARE_PART_FINAL_STATUSES, SPARE_PART_OPEN_STATUSES, approveSparePartUpdate, confirmSparePartReceiptUpdate, recordSparePartPaymentUpdate, recordSparePartReturnUpdate, recordSparePartShipmentUpdate, rejectSparePartUpdate } from '../../workflows/spare-part/definitions';
import { ApiError } from '../errors';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { contactLinkResponse, emailContactLink } from '../shared/contact-links';
import { isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { APPLICATION_LINK_TTL_HOURS, APPLY_ACTION, contactScope } from './link-actions';
import { listLoans, loadLoan, loanSchema, type LoanListFilter } from './read-model';
import { applicationSchema, applyForSparePart } from './registration';
import { stamp, update, type SparePartDependencies } from './steps';

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const MANAGER: readonly UserRole[] = ['manager'];
const BILLING: readonly UserRole[] = ['billing', 'manager'];
const ANY_USER: readonly UserRole[] = [];

const instant = isoInstantField();
const loanParams = z.object({ loanNumber: z.string().regex(/^SP-\d{4}-\d{6}$/, 'must look like SP-2026-000042') });

const LIST_FILTERS = ['open', 'due_soon', 'overdue', 'closed'] as const;

export function registerSparePartRoutes(routes: ApiRoutes, deps: SparePartDependencies): void {
  const tag = 'Spare part first';
  const loanResponse = { schema: loanSchema };
  const transitionErrors = [404, 409, 422];

  routes
    .add({
      method: 'post', path: '/spare-parts', tag, summary: 'Apply for a spare-part-first loan on behalf of a customer', access: { roles: DESK },
      body: applicationSchema, response: { status: 201, schema: loanSchema }, errors: [409, 422],
      handler: async ({ body, actor }) => applyForSparePart(deps, body, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'post', path: '/spare-parts/application-links', tag, summary: 'Email a customer contact a single-use link to apply for a loan themselves (the email is queued and sent by the outbox relay)', access: { roles: DESK },
      body: z.object({ contactId: z.uuid() }),
      response: { status: 201, schema: contactLinkResponse },
      handler: async ({ body }) =>
        emailContactLink(deps, {
          contactId: body.contactId,
          subject: contactScope,
          action: APPLY_ACTION,
          ttlHours: APPLICATION_LINK_TTL_HOURS,
          keyPrefix: 'spare-part/application-link',
          email: ({ customerName, url, expiresOn }) => ({ template: 'spare_part_application_link', params: { customerName, applyUrl: url, expiresOn } }),
        }),
    })
    .add({
      method: 'get', path: '/spare-parts', tag, summary: 'List loans: open, due soon (first reminder reached), overdue or closed', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ status: z.enum(LIST_FILTERS).optional(), customerId: z.uuid().optional() }),
      response: { schema: pageOf(loanSchema) },
      handler: async ({ query }) => {
        const filter: LoanListFilter = { customerId: query.customerId };
        if (query.status === 'open') filter.statuses = SPARE_PART_OPEN_STATUSES.filter((status) => status !== 'overdue');
        if (query.status === 'overdue') filter.statuses = ['overdue'];
        if (query.status === 'closed') filter.statuses = SPARE_PART_FINAL_STATUSES;
        if (query.status === 'due_soon') {
          filter.statuses = ['awaiting_return'];
          filter.firstReminderOnOrBefore = shanghaiDate(deps.clock.now().getTime());
        }
        const { items, total } = await listLoans(deps.db, filter, query);
        return { items, total, limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/spare-parts/:loanNumber', tag, summary: 'One loan with its status, deadline, reminders sent, invoice lines and timeline', access: { roles: ANY_USER },
      params: loanParams, response: loanResponse, errors: [404],
      handler: async ({ params }) => loadLoan(deps.db, params.loanNumber),
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/approve', tag, summary: 'Approve the loan (technical manager)', access: { roles: MANAGER },
      params: loanParams, body: z.object({ comment: optionalNote(2000) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.loanNumber, approveSparePartUpdate, { ...stamp(actor!, deps.clock), comment: body.comment }),
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/reject', tag, summary: 'Reject the loan with a reason (technical manager)', access: { roles: MANAGER },
      params: loanParams, body: z.object({ reason: requiredText(2000) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.loanNumber, rejectSparePartUpdate, { ...stamp(actor!, deps.clock), reason: body.reason }),
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/shipment', tag, summary: 'Record the replacement shipment; emails the customer a receipt link', access: { roles: DESK },
      params: loanParams,
      body: z.object({ replacementSerial: requiredText(64), carrier: requiredText(100), trackingNumber: requiredText(100), shippedAt: instant.optional() }),
      response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const by = stamp(actor!, deps.clock);
        return update(deps, params.loanNumber, recordSparePartShipmentUpdate, { ...by, replacementSerial: body.replacementSerial, carrier: body.carrier, trackingNumber: body.trackingNumber, shippedAt: body.shippedAt ?? by.at });
      },
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/receipt', tag, summary: "Record the carrier's delivery of the replacement (the customer may confirm by link instead)", access: { roles: DESK },
      params: loanParams, body: z.object({ receivedAt: instant, discrepancy: optionalNote(2000) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        if (Date.parse(body.receivedAt) > deps.clock.now().getTime() + 5 * 60_000) throw ApiError.validation([{ in: 'body', field: 'receivedAt', message: 'is in the future' }]);
        return update(deps, params.loanNumber, confirmSparePartReceiptUpdate, { ...stamp(actor!, deps.clock), receivedAt: body.receivedAt, discrepancy: body.discrepancy });
      },
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/return', tag, summary: 'Record the arrival of the failed part (serial must match, fault tag checked)', access: { roles: DESK },
      params: loanParams,
      body: z.object({ returnedSerial: requiredText(64), faultTagPresent: z.boolean(), discrepancy: optionalNote(2000), receivedAt: instant.optional() }),
      response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const by = stamp(actor!, deps.clock);
        return update(deps, params.loanNumber, recordSparePartReturnUpdate, { ...by, returnedSerial: body.returnedSerial, faultTagPresent: body.faultTagPresent, discrepancy: body.discrepancy, receivedAt: body.receivedAt ?? by.at });
      },
    })
    .add({
      method: 'post', path: '/spare-parts/:loanNumber/payment', tag, summary: 'Record payment of an overdue part; writes the loan off', access: { roles: BILLING },
      params: loanParams, body: z.object({ reference: requiredText(200) }), response: loanResponse, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.loanNumber, recordSparePartPaymentUpdate, { ...stamp(actor!, deps.clock), reference: body.reference }),
    });
}
