import { sql, type SelectQueryBuilder } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db';
import {
  CUSTOMER_CLASSES,
  LOCALES,
  PRODUCT_LINES,
  SERVICE_DOWNGRADES,
  SLA_CLASSES,
  USER_ROLES,
  type Contact,
  type Customer,
  type Database,
  type Device,
  type Product,
  type Site,
  type User,
  type UserRole,
} from '../../db/schema';
import { createUserWithToken } from '../auth';
import { ApiError } from '../errors';
import { idParamsSchema, pageOf, pageQuerySchema, type ApiRoutes } from '../route';

const MASTER_DATA_EDITORS: readonly UserRole[] = ['admin', 'manager', 'service_desk'];
const ANY_USER: readonly UserRole[] = [];
const isoDate = z.iso.date();
const timestamp = z.date().transform((value) => value.toISOString()).or(z.string());

const customerSchema = z
  .object({
    id: z.uuid(),
    code: z.string(),
    name: z.string(),
    customerClass: z.enum(CUSTOMER_CLASSES),
    slaClass: z.enum(SLA_CLASSES),
    billingDay: z.number().int(),
    sparePartFirst: z.boolean(),
    serviceDowngrade: z.enum(SERVICE_DOWNGRADES),
    downgradedAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Customer' });
const newCustomerSchema = z.object({
  code: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  customerClass: z.enum(CUSTOMER_CLASSES),
  slaClass: z.enum(SLA_CLASSES),
  billingDay: z.number().int().min(1).max(28).meta({ description: 'Day of the month the billing cycle closes (1-28)' }),
  sparePartFirst: z.boolean().default(false).meta({ description: 'Whether the contract includes spare-part-first (advance replacement)' }),
});
export const toCustomerDto = (row: Customer): z.input<typeof customerSchema> => ({
  id: row.id,
  code: row.code,
  name: row.name,
  customerClass: row.customer_class,
  slaClass: row.sla_class,
  billingDay: row.billing_day,
  sparePartFirst: row.spare_part_first,
  serviceDowngrade: row.service_downgrade,
  downgradedAt: row.downgraded_at,
  createdAt: row.created_at,
});

const contactSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    name: z.string(),
    email: z.email(),
    phone: z.string().nullable(),
    locale: z.enum(LOCALES),
    createdAt: timestamp,
  })
  .meta({ id: 'Contact' });
const newContactSchema = z.object({
  customerId: z.uuid(),
  name: z.string().trim().min(1).max(200),
  email: z.email(),
  phone: z.string().trim().max(40).nullable().default(null),
  locale: z.enum(LOCALES).default('zh-CN'),
});
const toContactDto = (row: Contact): z.input<typeof contactSchema> => ({
  id: row.id,
  customerId: row.customer_id,
  name: row.name,
  email: row.email,
  phone: row.phone,
  locale: row.locale,
  createdAt: row.created_at,
});

const siteSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    name: z.string(),
    city: z.string(),
    address: z.string().nullable(),
    distanceKm: z.number().int(),
    createdAt: timestamp,
  })
  .meta({ id: 'Site' });
const newSiteSchema = z.object({
  customerId: z.uuid(),
  name: z.string().trim().min(1).max(200),
  city: z.string().trim().min(1).max(100),
  address: z.string().trim().max(500).nullable().default(null),
  distanceKm: z.number().int().min(0).max(5000).meta({ description: 'Distance from the nearest service centre' }),
});
const toSiteDto = (row: Site): z.input<typeof siteSchema> => ({
  id: row.id,
  customerId: row.customer_id,
  name: row.name,
  city: row.city,
  address: row.address,
  distanceKm: row.distance_km,
  createdAt: row.created_at,
});

const productSchema = z
  .object({
    id: z.uuid(),
    code: z.string(),
    name: z.string(),
    productLine: z.enum(PRODUCT_LINES),
    listPriceCents: z.number().int(),
    createdAt: timestamp,
  })
  .meta({ id: 'Product' });
const newProductSchema = z.object({
  code: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  productLine: z.enum(PRODUCT_LINES),
  listPriceCents: z.number().int().min(0).meta({ description: 'Catalogue list price in fen (CNY cents)' }),
});
const toProductDto = (row: Product): z.input<typeof productSchema> => ({
  id: row.id,
  code: row.code,
  name: row.name,
  productLine: row.product_line,
  listPriceCents: row.list_price_cents,
  createdAt: row.created_at,
});

const deviceSchema = z
  .object({
    id: z.uuid(),
    serial: z.string(),
    productId: z.uuid(),
    customerId: z.uuid(),
    siteId: z.uuid().nullable(),
    warrantyEnd: isoDate.nullable(),
    firstPowerOnAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Device' });
const newDeviceSchema = z.object({
  serial: z.string().trim().min(1).max(64),
  productId: z.uuid(),
  customerId: z.uuid(),
  siteId: z.uuid().nullable().default(null),
  warrantyEnd: isoDate.nullable().default(null),
  firstPowerOnAt: z.iso.datetime({ offset: true }).nullable().default(null),
});
export const toDeviceDto = (row: Device): z.input<typeof deviceSchema> => ({
  id: row.id,
  serial: row.serial,
  productId: row.product_id,
  customerId: row.customer_id,
  siteId: row.site_id,
  warrantyEnd: row.warranty_end,
  firstPowerOnAt: row.first_power_on_at,
  createdAt: row.created_at,
});

const userSchema = z
  .object({ id: z.uuid(), name: z.string(), email: z.string(), role: z.enum(USER_ROLES), createdAt: timestamp, disabledAt: timestamp.nullable() })
  .meta({ id: 'User' });
const newUserSchema = z.object({ name: z.string().trim().min(1).max(200), email: z.email(), role: z.enum(USER_ROLES) });
const toUserDto = (row: User): z.input<typeof userSchema> => ({
  id: row.id,
  name: row.name,
  email: row.email,
  role: row.role,
  createdAt: row.created_at,
  disabledAt: row.disabled_at,
});

async function page<T extends keyof Database, R>(
  query: SelectQueryBuilder<Database, T, R>,
  { limit, offset }: { limit: number; offset: number },
  orderBy: string,
) {
  const [items, count] = await Promise.all([
    query.orderBy(sql.ref(orderBy)).orderBy(sql.ref('id')).limit(limit).offset(offset).execute(),
    query.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(count.total), limit, offset };
}

async function assertCustomerExists(db: Db, customerId: string, field = 'customerId'): Promise<void> {
  const found = await db.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
  if (!found) throw ApiError.validation([{ in: 'body', field, message: `no customer with id ${customerId}` }]);
}

export function registerMasterDataRoutes(routes: ApiRoutes, { db }: { db: Db }): void {
  const byCustomerQuery = pageQuerySchema.extend({ customerId: z.uuid().optional() });

  routes
    .add({
      method: 'post', path: '/customers', tag: 'Master data', summary: 'Create a customer', access: { roles: MASTER_DATA_EDITORS },
      body: newCustomerSchema, response: { status: 201, schema: customerSchema }, errors: [409],
      handler: async ({ body }) =>
        toCustomerDto(
          await db
            .insertInto('customers')
            .values({ code: body.code, name: body.name, customer_class: body.customerClass, sla_class: body.slaClass, billing_day: body.billingDay, spare_part_first: body.sparePartFirst, downgraded_at: null })
            .returningAll()
            .executeTakeFirstOrThrow(),
        ),
    })
    .add({
      method: 'get', path: '/customers', tag: 'Master data', summary: 'List customers', access: { roles: ANY_USER },
      query: pageQuerySchema, response: { schema: pageOf(customerSchema) },
      handler: async ({ query }) => {
        const result = await page(db.selectFrom('customers').selectAll(), query, 'code');
        return { ...result, items: result.items.map(toCustomerDto) };
      },
    })
    .add({
      method: 'get', path: '/customers/:id', tag: 'Master data', summary: 'Get a customer', access: { roles: ANY_USER },
      params: idParamsSchema, response: { schema: customerSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.selectFrom('customers').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!row) throw ApiError.notFound('customer', params.id);
        return toCustomerDto(row);
      },
    })
    .add({
      method: 'post', path: '/contacts', tag: 'Master data', summary: 'Create a customer contact', access: { roles: MASTER_DATA_EDITORS },
      body: newContactSchema, response: { status: 201, schema: contactSchema }, errors: [409],
      handler: async ({ body }) => {
        await assertCustomerExists(db, body.customerId);
        return toContactDto(
          await db
            .insertInto('contacts')
            .values({ customer_id: body.customerId, name: body.name, email: body.email.toLowerCase(), phone: body.phone, locale: body.locale })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
      },
    })
    .add({
      method: 'get', path: '/contacts', tag: 'Master data', summary: 'List contacts, optionally of one customer', access: { roles: ANY_USER },
      query: byCustomerQuery, response: { schema: pageOf(contactSchema) },
      handler: async ({ query }) => {
        let select = db.selectFrom('contacts').selectAll();
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        const result = await page(select, query, 'name');
        return { ...result, items: result.items.map(toContactDto) };
      },
    })
    .add({
      method: 'get', path: '/contacts/:id', tag: 'Master data', summary: 'Get a contact', access: { roles: ANY_USER },
      params: idParamsSchema, response: { schema: contactSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.selectFrom('contacts').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!row) throw ApiError.notFound('contact', params.id);
        return toContactDto(row);
      },
    })
    .add({
      method: 'post', path: '/sites', tag: 'Master data', summary: 'Create a customer site', access: { roles: MASTER_DATA_EDITORS },
      body: newSiteSchema, response: { status: 201, schema: siteSchema },
      handler: async ({ body }) => {
        await assertCustomerExists(db, body.customerId);
        return toSiteDto(
          await db
            .insertInto('sites')
            .values({ customer_id: body.customerId, name: body.name, city: body.city, address: body.address, distance_km: body.distanceKm })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
      },
    })
    .add({
      method: 'get', path: '/sites', tag: 'Master data', summary: 'List sites, optionally of one customer', access: { roles: ANY_USER },
      query: byCustomerQuery, response: { schema: pageOf(siteSchema) },
      handler: async ({ query }) => {
        let select = db.selectFrom('sites').selectAll();
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        const result = await page(select, query, 'name');
        return { ...result, items: result.items.map(toSiteDto) };
      },
    })
    .add({
      method: 'get', path: '/sites/:id', tag: 'Master data', summary: 'Get a site', access: { roles: ANY_USER },
      params: idParamsSchema, response: { schema: siteSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.selectFrom('sites').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!row) throw ApiError.notFound('site', params.id);
        return toSiteDto(row);
      },
    })
    .add({
      method: 'post', path: '/products', tag: 'Master data', summary: 'Create a product', access: { roles: MASTER_DATA_EDITORS },
      body: newProductSchema, response: { status: 201, schema: productSchema }, errors: [409],
      handler: async ({ body }) =>
        toProductDto(
          await db
            .insertInto('products')
            .values({ code: body.code, name: body.name, product_line: body.productLine, list_price_cents: body.listPriceCents })
            .returningAll()
            .executeTakeFirstOrThrow(),
        ),
    })
    .add({
      method: 'get', path: '/products', tag: 'Master data', summary: 'List products', access: { roles: ANY_USER },
      query: pageQuerySchema, response: { schema: pageOf(productSchema) },
      handler: async ({ query }) => {
        const result = await page(db.selectFrom('products').selectAll(), query, 'code');
        return { ...result, items: result.items.map(toProductDto) };
      },
    })
    .add({
      method: 'get', path: '/products/:id', tag: 'Master data', summary: 'Get a product', access: { roles: ANY_USER },
      params: idParamsSchema, response: { schema: productSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.selectFrom('products').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!row) throw ApiError.notFound('product', params.id);
        return toProductDto(row);
      },
    })
    .add({
      method: 'post', path: '/devices', tag: 'Master data', summary: 'Register an installed device', access: { roles: MASTER_DATA_EDITORS },
      body: newDeviceSchema, response: { status: 201, schema: deviceSchema }, errors: [409],
      handler: async ({ body }) => {
        await assertCustomerExists(db, body.customerId);
        const product = await db.selectFrom('products').select('id').where('id', '=', body.productId).executeTakeFirst();
        if (!product) throw ApiError.validation([{ in: 'body', field: 'productId', message: `no product with id ${body.productId}` }]);
        if (body.siteId) {
          const site = await db.selectFrom('sites').select('customer_id').where('id', '=', body.siteId).executeTakeFirst();
          if (!site || site.customer_id !== body.customerId) {
            throw ApiError.validation([{ in: 'body', field: 'siteId', message: 'no such site for this customer' }]);
          }
        }
        return toDeviceDto(
          await db
            .insertInto('devices')
            .values({ serial: body.serial, product_id: body.productId, customer_id: body.customerId, site_id: body.siteId, warranty_end: body.warrantyEnd, first_power_on_at: body.firstPowerOnAt })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
      },
    })
    .add({
      method: 'get', path: '/devices', tag: 'Master data', summary: 'List devices, optionally of one customer or by serial', access: { roles: ANY_USER },
      query: byCustomerQuery.extend({ serial: z.string().min(1).optional() }), response: { schema: pageOf(deviceSchema) },
      handler: async ({ query }) => {
        let select = db.selectFrom('devices').selectAll();
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        if (query.serial) select = select.where('serial', '=', query.serial);
        const result = await page(select, query, 'serial');
        return { ...result, items: result.items.map(toDeviceDto) };
      },
    })
    .add({
      method: 'get', path: '/devices/:id', tag: 'Master data', summary: 'Get a device', access: { roles: ANY_USER },
      params: idParamsSchema, response: { schema: deviceSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.selectFrom('devices').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!row) throw ApiError.notFound('device', params.id);
        return toDeviceDto(row);
      },
    })
    .add({
      method: 'post', path: '/users', tag: 'Users', summary: 'Create a user; the response shows its API token once', access: { roles: ['admin'] },
      body: newUserSchema, response: { status: 201, schema: userSchema.extend({ token: z.string() }) }, errors: [409],
      handler: async ({ body }) => {
        const { user, token } = await createUserWithToken(db, body);
        return { ...toUserDto(user), token };
      },
    })
    .add({
      method: 'get', path: '/users', tag: 'Users', summary: 'List users', access: { roles: ['admin'] },
      query: pageQuerySchema, response: { schema: pageOf(userSchema) },
      handler: async ({ query }) => {
        const result = await page(db.selectFrom('users').selectAll(), query, 'email');
        return { ...result, items: result.items.map(toUserDto) };
      },
    })
    .add({
      method: 'get', path: '/users/:id', tag: 'Users', summary: 'Get a user', access: { roles: ['admin'] },
      params: idParamsSchema, response: { schema: userSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.selectFrom('users').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!row) throw ApiError.notFound('user', params.id);
        return toUserDto(row);
      },
    });
}
