// Master data for tests, written straight into a test database with the kysely `db`: defaults that
// make a valid row, and overrides (column names as in db/schema.ts) where a test cares about a value.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db';
import { USER_ROLES, type Contact, type Customer, type Device, type NewContact, type NewCustomer, type NewDevice, type NewProduct, type Product, type UserRole } from '../../db/schema';
import { createUsers } from './app';

/** A short random tag that keeps codes, emails and serials unique within a test database. */
export const uniqueTag = (): string => randomBytes(3).toString('hex');

export type CustomerOverrides = Partial<NewCustomer>;
export type ContactOverrides = Partial<Omit<NewContact, 'customer_id'>>;
export type ProductOverrides = Partial<NewProduct>;
export type DeviceOverrides = Partial<Omit<NewDevice, 'customer_id' | 'product_id' | 'serial'>>;

/** A class B, NBD customer billed on the 25th, with spare part first and no downgrade. */
export async function createCustomer(db: Db, overrides: CustomerOverrides = {}): Promise<Customer> {
  const tag = uniqueTag();
  return db
    .insertInto('customers')
    .values({ code: `C-${tag}`, name: `Customer ${tag}`, customer_class: 'B', sla_class: 'NBD', billing_day: 25, spare_part_first: true, downgraded_at: null, ...overrides })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** An English-speaking contact of the customer, with a unique email. */
export async function createContact(db: Db, customerId: string, overrides: ContactOverrides = {}): Promise<Contact> {
  return db
    .insertInto('contacts')
    .values({ name: 'Contact', email: `contact-${uniqueTag()}@customer.test`, locale: 'en', phone: null, ...overrides, customer_id: customerId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A network product listed at 1,000.00 CNY. */
export async function createProduct(db: Db, overrides: ProductOverrides = {}): Promise<Product> {
  const tag = uniqueTag();
  return db
    .insertInto('products')
    .values({ code: `P-${tag}`, name: `Product ${tag}`, product_line: 'network', list_price_cents: 100_000, ...overrides })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A device of the customer, at no site, out of warranty and never powered on unless the overrides say otherwise. */
export async function createDevice(db: Db, { customerId, productId, serial, ...overrides }: { customerId: string; productId: string; serial: string } & DeviceOverrides): Promise<Device> {
  return db
    .insertInto('devices')
    .values({ site_id: null, warranty_end: null, first_power_on_at: null, ...overrides, serial, product_id: productId, customer_id: customerId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The warranty end `ServiceCompany.addDevice` gives a device unless told otherwise. */
export const SEEDED_WARRANTY_END = '2027-03-31';

export interface ServiceCompany<Role extends UserRole = UserRole> {
  customer: Customer;
  contact: Contact;
  product: Product;
  customerId: string;
  contactId: string;
  productId: string;
  /** Bearer tokens of the users created, one per role. */
  tokens: Record<Role, string>;
  /** A device of the customer, of the seeded product, in warranty until SEEDED_WARRANTY_END unless overridden. */
  addDevice(serial: string, overrides?: DeviceOverrides): Promise<Device>;
}

/**
 * What a spare-part test starts from: a customer with spare part first (Shanghai Mobile, class A,
 * 7x24, billed on the 25th), its contact Li Lei <lilei@cmcc.test>, a product listed at 12,500.00 CNY,
 * and one user with a token per role in `roles` (every role by default; `roles: []` where the
 * process harness has created the users already).
 */
export async function seedServiceCompany<Role extends UserRole = UserRole>(
  db: Db,
  options: { customer?: CustomerOverrides; contact?: ContactOverrides; product?: ProductOverrides; roles?: readonly Role[] } = {},
): Promise<ServiceCompany<Role>> {
  const customer = await createCustomer(db, { code: 'CMCC-SH', name: 'Shanghai Mobile', customer_class: 'A', sla_class: '7x24', billing_day: 25, spare_part_first: true, ...options.customer });
  const contact = await createContact(db, customer.id, { name: 'Li Lei', email: 'lilei@cmcc.test', ...options.contact });
  const product = await createProduct(db, { code: 'NE40E-LPU', name: 'Line processing unit', product_line: 'network', list_price_cents: 1_250_000, ...options.product });
  const roles: readonly UserRole[] = options.roles ?? USER_ROLES;
  const tokens = (await createUsers(db, roles)) as Record<Role, string>;
  return {
    customer,
    contact,
    product,
    customerId: customer.id,
    contactId: contact.id,
    productId: product.id,
    tokens,
    addDevice: (serial, overrides = {}) => createDevice(db, { customerId: customer.id, productId: product.id, serial, warranty_end: SEEDED_WARRANTY_END, ...overrides }),
  };
}
