import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db';
import {
  CONTACT_ROLES,
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
import { appendAuditEvent } from '../../activities/shared/audit';
import { createUserWithToken } from '../auth';
import { ApiError } from '../errors';
import { idParamsSchema, pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { minuteOfDayText, parseMinuteOfDay } from '../../workflows/fault-repair/definitions';
import { INT4_MAX, isoDateField, isoInstantField, optionalNote, requiredText } from '../shared/schemas';

const MASTER_DATA_EDITORS: readonly UserRole[] = ['admin', 'manager', 'service_desk'];
const ANY_USER: readonly UserRole[] = [];
const isoDate = z.iso.date();
const timestamp = z.date().transform((value) => value.toISOString()).or(z.string());

const windowTime = z.string().refine((text) => parseMinuteOfDay(text) !== null, 'expected a time of day HH:MM, 00:00-24:00');
const maintenanceWindowSchema = z
  .object({ start: z.string(), end: z.string() })
  .meta({ id: 'MaintenanceWindow', description: 'The daily window for high-risk work, China time (UTC+8), HH:MM-HH:MM within one day' });
const newMaintenanceWindowSchema = z
  .object({ start: windowTime, end: windowTime })
  .refine((w) => (parseMinuteOfDay(w.start) ?? 0) < (parseMinuteOfDay(w.end) ?? 0), { message: 'the window must start before it ends (within one day)', path: ['end'] })
  .meta({ description: 'The daily window for high-risk work, China time (UTC+8); default 00:00-05:00' });

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
    maintenanceWindow: maintenanceWindowSchema,
    createdAt: timestamp,
  })
  .meta({ id: 'Customer' });
const newCustomerSchema = z.object({
  code: requiredText(64),
  name: requiredText(200),
  customerClass: z.enum(CUSTOMER_CLASSES),
  slaClass: z.enum(SLA_CLASSES),
  billingDay: z.number().int().min(1).max(28).meta({ description: 'Day of the month the billing cycle closes (1-28)' }),
  sparePartFirst: z.boolean().default(false).meta({ description: 'Whether the contract includes spare-part-first (advance replacement)' }),
  maintenanceWindow: newMaintenanceWindowSchema.optional(),
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
  maintenanceWindow: { start: minuteOfDayText(row.maintenance_window_start_minute), end: minuteOfDayText(row.maintenance_window_end_minute) },
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
    role: z.enum(CONTACT_ROLES).meta({ description: "supervisor: receives an incident's emergency-recovery summary report" }),
    createdAt: timestamp,
  })
  .meta({ id: 'Contact' });
const newContactSchema = z.object({
  customerId: z.uuid(),
  name: requiredText(200),
  email: z.email(),
  phone: optionalNote(40),
  locale: z.enum(LOCALES).default('zh-CN'),
  role: z.enum(CONTACT_ROLES).default('operations'),
});
const toContactDto = (row: Contact): z.input<typeof contactSchema> => ({
  id: row.id,
  customerId: row.customer_id,
  name: row.name,
  email: row.email,
  phone: row.phone,
  locale: row.locale,
  role: row.role,
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
  name: requiredText(200),
  city: requiredText(100),
  address: optionalNote(500),
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
  code: requiredText(64),
  name: requiredText(200),
  productLine: z.enum(PRODUCT_LINES),
  listPriceCents: z.number().int().min(0).max(INT4_MAX).meta({ description: 'Catalogue list price in fen (CNY cents)' }),
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
    soldBy: z.string().nullable().meta({ description: 'Who sold it when not our company (null); the seller is responsible for its DOA and goods claims' }),
    createdAt: timestamp,
  })
  .meta({ id: 'Device' });
const newDeviceSchema = z.object({
  serial: requiredText(64),
  productId: z.uuid(),
  customerId: z.uuid(),
  siteId: z.uuid().nullable().default(null),
  warrantyEnd: isoDateField().nullable().default(null),
  firstPowerOnAt: isoInstantField().nullable().default(null),
  soldBy: requiredText(200).nullable().default(null),
});
export const toDeviceDto = (row: Device): z.input<typeof deviceSchema> => ({
  id: row.id,
  serial: row.serial,
  productId: row.product_id,
  customerId: row.customer_id,
  siteId: row.site_id,
  warrantyEnd: row.warranty_end,
  firstPowerOnAt: row.first_power_on_at,
  soldBy: row.sold_by,
  createdAt: row.created_at,
});

const userSchema = z
  .object({ id: z.uuid(), name: z.string(), email: z.string(), role: z.enum(USER_ROLES), createdAt: timestamp, disabledAt: timestamp.nullable() })
  .meta({ id: 'User' });
const newUserSchema = z.object({ name: requiredText(200), email: z.email(), role: z.enum(USER_ROLES) });
const toUserDto = (row: User): z.input<typeof userSchema> => ({
  id: row.id,
  name: row.name,
  email: row.email,
  role: row.role,
  createdAt: row.created_at,
  disabledAt: row.disabled_at,
});

type MasterTable = 'customers' | 'contacts' | 'sites' | 'products' | 'devices' | 'users';

interface ReadRoutesSpec<T extends MasterTable, S extends z.ZodType> {
  table: T;
  /** The collection path, e.g. `/customers`. */
  path: string;
  noun: string;
  tag: string;
  roles: readonly UserRole[];
  schema: S;
  toDto: (row: Selectable<Database[T]>) => z.input<S>;
  orderBy: keyof Database[T] & string;
  /** Optional exact-match filters of the list: query parameter -> column. */
  filters?: Record<string, keyof Database[T] & string>;
  listSummary: string;
}

/** `GET <path>` (paginated, filtered) and `GET <path>/:id` for one master-data table. */
function addReadRoutes<T extends MasterTable, S extends z.ZodType>(routes: ApiRoutes, db: Db, spec: ReadRoutesSpec<T, S>): void {
  const filters = Object.entries(spec.filters ?? {});
  const filterSchema = Object.fromEntries(filters.map(([parameter]) => [parameter, parameter.endsWith('Id') ? z.uuid().optional() : requiredText(200).optional()]));
  // Kysely cannot type a query over a table chosen by a type parameter, so the builder is typed as one
  // concrete table; only untyped references (`sql.ref`) are used on it and rows go through `toDto`.
  const rows = () => db.selectFrom(spec.table as 'customers').selectAll();
  const toDto = (row: unknown) => spec.toDto(row as Selectable<Database[T]>);

  routes
    .add({
      method: 'get', path: spec.path, tag: spec.tag, summary: spec.listSummary, access: { roles: spec.roles },
      query: pageQuerySchema.extend(filterSchema), response: { schema: pageOf(spec.schema) },
      handler: async ({ query }) => {
        // The filters' index signature hides the page fields' types; the schema above guarantees them.
        const { limit, offset } = query as unknown as z.output<typeof pageQuerySchema>;
        let select = rows();
        for (const [parameter, column] of filters) {
          const value = (query as Record<string, unknown>)[parameter];
          if (typeof value === 'string') select = select.where(sql<boolean>`${sql.ref(column)} = ${value}`);
        }
        const [items, count] = await Promise.all([
          select.orderBy(sql.ref(spec.orderBy)).orderBy(sql.ref('id')).limit(limit).offset(offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        return { items: items.map(toDto), total: Number(count.total), limit, offset };
      },
    })
    .add({
      method: 'get', path: `${spec.path}/:id`, tag: spec.tag, summary: `Get a ${spec.noun}`, access: { roles: spec.roles },
      params: idParamsSchema, response: { schema: spec.schema }, errors: [404],
      handler: async ({ params }) => {
        const row = await rows().where(sql<boolean>`id = ${params.id}`).executeTakeFirst();
        if (!row) throw ApiError.notFound(spec.noun, params.id);
        return toDto(row);
      },
    });
}

/**
 * An admin's change to a user, with its audit entry, in one transaction. Disabling also revokes the
 * user's console sessions (sessions of disabled users are refused anyway; revoking them means enabling
 * the user again does not bring them back). An admin cannot demote or disable themselves, so there is
 * always someone left to undo a change. Asking for the state a user is already in changes nothing.
 */
async function changeUser(db: Db, id: string, actor: { id: string; name: string; role: UserRole }, change: { role?: UserRole; disabled?: boolean }) {
  if (id === actor.id) {
    throw new ApiError(422, 'business_rule_violated', 'You cannot change your own role or disable yourself: ask another admin', { field: change.role ? 'role' : 'id' });
  }
  const at = new Date();
  return db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!user) throw ApiError.notFound('user', id);
    const disabledAt = change.disabled === undefined ? user.disabled_at : change.disabled ? (user.disabled_at ?? at) : null;
    const role = change.role ?? user.role;
    if (role === user.role && (disabledAt === null) === (user.disabled_at === null)) return toUserDto(user);
    const updated = await trx.updateTable('users').set({ role, disabled_at: disabledAt }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    const revoked = change.disabled
      ? await trx.updateTable('console_sessions').set({ revoked_at: at }).where('user_id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()
      : undefined;
    const action = change.role ? 'user.role_changed' : change.disabled ? 'user.disabled' : 'user.enabled';
    await appendAuditEvent(trx, {
      caseId: null,
      occurredAt: at.toISOString(),
      actor: actor.name,
      actorRole: actor.role,
      action,
      comment: change.role ? `${user.email}: ${user.role} -> ${role}` : user.email,
      data: { userId: id, email: user.email, ...(change.role ? { from: user.role, to: role } : {}), ...(revoked ? { sessionsEnded: Number(revoked.numUpdatedRows) } : {}) },
      idempotencyKey: `${action}:${id}:${randomUUID()}`,
    });
    return toUserDto(updated);
  });
}

async function assertCustomerExists(db: Db, customerId: string, field = 'customerId'): Promise<void> {
  const found = await db.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
  if (!found) throw ApiError.validation([{ in: 'body', field, message: `no customer with id ${customerId}` }]);
}

export function registerMasterDataRoutes(routes: ApiRoutes, { db }: { db: Db }): void {
  routes
    .add({
      method: 'post', path: '/customers', tag: 'Master data', summary: 'Create a customer', access: { roles: MASTER_DATA_EDITORS },
      body: newCustomerSchema, response: { status: 201, schema: customerSchema }, errors: [409],
      handler: async ({ body }) =>
        toCustomerDto(
          await db
            .insertInto('customers')
            .values({
              code: body.code,
              name: body.name,
              customer_class: body.customerClass,
              sla_class: body.slaClass,
              billing_day: body.billingDay,
              spare_part_first: body.sparePartFirst,
              downgraded_at: null,
              ...(body.maintenanceWindow
                ? { maintenance_window_start_minute: parseMinuteOfDay(body.maintenanceWindow.start) ?? 0, maintenance_window_end_minute: parseMinuteOfDay(body.maintenanceWindow.end) ?? 300 }
                : {}),
            })
            .returningAll()
            .executeTakeFirstOrThrow(),
        ),
    })


    .add({
      method: 'post', path: '/contacts', tag: 'Master data', summary: 'Create a customer contact', access: { roles: MASTER_DATA_EDITORS },
      body: newContactSchema, response: { status: 201, schema: contactSchema }, errors: [409],
      handler: async ({ body }) => {
        await assertCustomerExists(db, body.customerId);
        return toContactDto(
          await db
            .insertInto('contacts')
            .values({ customer_id: body.customerId, name: body.name, email: body.email.toLowerCase(), phone: body.phone, locale: body.locale, role: body.role })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
      },
    })
    .add({
      method: 'patch', path: '/contacts/:id', tag: 'Master data', summary: "Change a contact's role (supervisor: receives incidents' summary reports)", access: { roles: MASTER_DATA_EDITORS },
      params: idParamsSchema, body: z.object({ role: z.enum(CONTACT_ROLES) }), response: { schema: contactSchema }, errors: [404],
      handler: async ({ params, body }) => {
        const row = await db.updateTable('contacts').set({ role: body.role }).where('id', '=', params.id).returningAll().executeTakeFirst();
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
            .values({ serial: body.serial, product_id: body.productId, customer_id: body.customerId, site_id: body.siteId, warranty_end: body.warrantyEnd, first_power_on_at: body.firstPowerOnAt, sold_by: body.soldBy })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
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
      method: 'patch', path: '/users/:id', tag: 'Users', summary: "Change a user's role (their sessions and token act with the new role at once)", access: { roles: ['admin'] },
      params: idParamsSchema, body: z.object({ role: z.enum(USER_ROLES) }), response: { schema: userSchema }, errors: [404, 422],
      handler: async ({ params, body, actor }) => changeUser(db, params.id, actor!, { role: body.role }),
    })
    .add({
      method: 'post', path: '/users/:id/disable', tag: 'Users', summary: 'Disable a user: their API token is refused and every console session of theirs ends at once', access: { roles: ['admin'] },
      params: idParamsSchema, response: { schema: userSchema }, errors: [404, 422],
      handler: async ({ params, actor }) => changeUser(db, params.id, actor!, { disabled: true }),
    })
    .add({
      method: 'post', path: '/users/:id/enable', tag: 'Users', summary: 'Enable a disabled user again (they sign in anew; ended sessions stay ended)', access: { roles: ['admin'] },
      params: idParamsSchema, response: { schema: userSchema }, errors: [404, 422],
      handler: async ({ params, actor }) => changeUser(db, params.id, actor!, { disabled: false }),
    })

;

  const masterData = { tag: 'Master data', roles: ANY_USER };
  addReadRoutes(routes, db, { ...masterData, table: 'customers', path: '/customers', noun: 'customer', listSummary: 'List customers', schema: customerSchema, toDto: toCustomerDto, orderBy: 'code' });
  addReadRoutes(routes, db, { ...masterData, table: 'contacts', path: '/contacts', noun: 'contact', listSummary: 'List contacts, optionally of one customer or one role', schema: contactSchema, toDto: toContactDto, orderBy: 'name', filters: { customerId: 'customer_id', role: 'role' } });
  addReadRoutes(routes, db, { ...masterData, table: 'sites', path: '/sites', noun: 'site', listSummary: 'List sites, optionally of one customer', schema: siteSchema, toDto: toSiteDto, orderBy: 'name', filters: { customerId: 'customer_id' } });
  addReadRoutes(routes, db, { ...masterData, table: 'products', path: '/products', noun: 'product', listSummary: 'List products', schema: productSchema, toDto: toProductDto, orderBy: 'code' });
  addReadRoutes(routes, db, { ...masterData, table: 'devices', path: '/devices', noun: 'device', listSummary: 'List devices, optionally of one customer or by serial', schema: deviceSchema, toDto: toDeviceDto, orderBy: 'serial', filters: { customerId: 'customer_id', serial: 'serial' } });
  addReadRoutes(routes, db, { table: 'users', path: '/users', noun: 'user', tag: 'Users', roles: ['admin'], listSummary: 'List users, optionally of one role', schema: userSchema, toDto: toUserDto, orderBy: 'email', filters: { role: 'role' } });
}
