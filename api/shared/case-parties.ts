import type { Db } from '../../db';
import { ApiError } from '../errors';

/**
 * Who and what a case is registered for, as every registration checks them: the customer, its contact,
 * and the device in the customer's installed base (400 naming the field otherwise). Answers the device
 * with who sold it (null: our company).
 */
export async function checkCaseParties(db: Db, body: { customerId: string; contactId: string; deviceSerial: string }): Promise<{ deviceId: string; soldBy: string | null }> {
  const customer = await db.selectFrom('customers').select('id').where('id', '=', body.customerId).executeTakeFirst();
  if (!customer) throw ApiError.validation([{ in: 'body', field: 'customerId', message: `no customer with id ${body.customerId}` }]);
  const contact = await db.selectFrom('contacts').select('id').where('id', '=', body.contactId).where('customer_id', '=', customer.id).executeTakeFirst();
  if (!contact) throw ApiError.validation([{ in: 'body', field: 'contactId', message: 'no such contact for this customer' }]);
  const device = await db.selectFrom('devices').select(['id', 'customer_id', 'sold_by']).where('serial', '=', body.deviceSerial).executeTakeFirst();
  if (!device || device.customer_id !== customer.id) {
    throw ApiError.validation([{ in: 'body', field: 'deviceSerial', message: `no device ${body.deviceSerial} in this customer's installed base` }]);
  }
  return { deviceId: device.id, soldBy: device.sold_by };
}
