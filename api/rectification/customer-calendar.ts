import { z } from 'zod';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import { ApiError } from '../errors';
import type { ApiRoutes } from '../route';
import { isoDateField, optionalNote, requiredText } from '../shared/schemas';

// Customer master data the rectification slots respect: recurring busy hours (a weekday and a span of
// minutes, China time) and dated protected periods (holidays, "重要通信保障期间"), read by the site's
// slot rule. Edited like the other master data.

const EDITORS: readonly UserRole[] = ['admin', 'manager', 'service_desk'];
const ANY_USER: readonly UserRole[] = [];
const customerParams = z.object({ customerId: z.uuid() });
const entryParams = customerParams.extend({ id: z.uuid() });

export const busyHoursSchema = z
  .object({ id: z.uuid(), customerId: z.uuid(), weekday: z.number().int(), startMinute: z.number().int(), endMinute: z.number().int(), note: z.string().nullable() })
  .meta({ id: 'CustomerBusyHours' });
export const protectedPeriodSchema = z
  .object({ id: z.uuid(), customerId: z.uuid(), startsOn: z.string(), endsOn: z.string(), reason: z.string() })
  .meta({ id: 'CustomerProtectedPeriod' });

const newBusyHours = z
  .object({
    weekday: z.number().int().min(1).max(7).meta({ description: 'ISO weekday: 1 Monday .. 7 Sunday' }),
    startMinute: z.number().int().min(0).max(1439).meta({ description: 'Minutes after midnight, China time' }),
    endMinute: z.number().int().min(1).max(1440).meta({ description: 'Minutes after midnight, China time; 1440 is midnight at the end of the day' }),
    note: optionalNote(500),
  })
  .refine((hours) => hours.endMinute > hours.startMinute, { message: 'must be after startMinute', path: ['endMinute'] });

const newProtectedPeriod = z
  .object({ startsOn: isoDateField(), endsOn: isoDateField(), reason: requiredText(500).meta({ description: 'e.g. 春节, 重要通信保障期间' }) })
  .refine((period) => period.endsOn >= period.startsOn, { message: 'must not be before startsOn', path: ['endsOn'] });

async function assertCustomer(db: Db, customerId: string): Promise<void> {
  const customer = await db.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
  if (!customer) throw ApiError.notFound('customer', customerId);
}

const toBusyHours = (row: { id: string; customer_id: string; weekday: number; start_minute: number; end_minute: number; note: string | null }) => ({
  id: row.id,
  customerId: row.customer_id,
  weekday: row.weekday,
  startMinute: row.start_minute,
  endMinute: row.end_minute,
  note: row.note,
});
const toProtectedPeriod = (row: { id: string; customer_id: string; starts_on: string; ends_on: string; reason: string }) => ({
  id: row.id,
  customerId: row.customer_id,
  startsOn: row.starts_on,
  endsOn: row.ends_on,
  reason: row.reason,
});

export function registerCustomerCalendarRoutes(routes: ApiRoutes, deps: { db: Db }): void {
  const { db } = deps;
  const tag = 'Master data';
  routes
    .add({
      method: 'get', path: '/customers/:customerId/busy-hours', tag, summary: "The customer's recurring busy hours (no rectification work then)", access: { roles: ANY_USER },
      params: customerParams, response: { schema: z.object({ items: z.array(busyHoursSchema) }) }, errors: [404],
      handler: async ({ params }) => {
        await assertCustomer(db, params.customerId);
        const rows = await db.selectFrom('customer_busy_hours').selectAll().where('customer_id', '=', params.customerId).orderBy('weekday').orderBy('start_minute').orderBy('id').execute();
        return { items: rows.map(toBusyHours) };
      },
    })
    .add({
      method: 'post', path: '/customers/:customerId/busy-hours', tag, summary: 'Add recurring busy hours: a weekday and a span of minutes, China time', access: { roles: EDITORS },
      params: customerParams, body: newBusyHours, response: { status: 201, schema: busyHoursSchema }, errors: [404],
      handler: async ({ params, body }) => {
        await assertCustomer(db, params.customerId);
        const row = await db
          .insertInto('customer_busy_hours')
          .values({ customer_id: params.customerId, weekday: body.weekday, start_minute: body.startMinute, end_minute: body.endMinute, note: body.note })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toBusyHours(row);
      },
    })
    .add({
      method: 'delete', path: '/customers/:customerId/busy-hours/:id', tag, summary: 'Remove busy hours (slots already confirmed do not move)', access: { roles: EDITORS },
      params: entryParams, response: { schema: busyHoursSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.deleteFrom('customer_busy_hours').where('id', '=', params.id).where('customer_id', '=', params.customerId).returningAll().executeTakeFirst();
        if (!row) throw ApiError.notFound('busy hours', params.id);
        return toBusyHours(row);
      },
    })
    .add({
      method: 'get', path: '/customers/:customerId/protected-periods', tag, summary: "The customer's protected periods (holidays, important communication assurance periods), by start", access: { roles: ANY_USER },
      params: customerParams, response: { schema: z.object({ items: z.array(protectedPeriodSchema) }) }, errors: [404],
      handler: async ({ params }) => {
        await assertCustomer(db, params.customerId);
        const rows = await db.selectFrom('customer_protected_periods').selectAll().where('customer_id', '=', params.customerId).orderBy('starts_on').orderBy('id').execute();
        return { items: rows.map(toProtectedPeriod) };
      },
    })
    .add({
      method: 'post', path: '/customers/:customerId/protected-periods', tag, summary: 'Add a protected period: China dates, both inclusive', access: { roles: EDITORS },
      params: customerParams, body: newProtectedPeriod, response: { status: 201, schema: protectedPeriodSchema }, errors: [404],
      handler: async ({ params, body }) => {
        await assertCustomer(db, params.customerId);
        const row = await db.insertInto('customer_protected_periods').values({ customer_id: params.customerId, starts_on: body.startsOn, ends_on: body.endsOn, reason: body.reason }).returningAll().executeTakeFirstOrThrow();
        return toProtectedPeriod(row);
      },
    })
    .add({
      method: 'delete', path: '/customers/:customerId/protected-periods/:id', tag, summary: 'Remove a protected period (slots already confirmed do not move)', access: { roles: EDITORS },
      params: entryParams, response: { schema: protectedPeriodSchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await db.deleteFrom('customer_protected_periods').where('id', '=', params.id).where('customer_id', '=', params.customerId).returningAll().executeTakeFirst();
        if (!row) throw ApiError.notFound('protected period', params.id);
        return toProtectedPeriod(row);
      },
    });
}
