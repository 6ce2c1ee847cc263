import { z } from 'zod';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import type { ApiRoutes } from '../route';
import { pageOf, pageQuerySchema } from '../route';
import { CASE_RESOURCES } from '../routes/cases';

// Billing: the invoice lines the processes wrote (unique by source), by billing cycle, and a cycle as CSV.

export const BILLING_READERS: readonly UserRole[] = ['billing', 'manager', 'admin'];

const cycleField = () =>
  z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a billing cycle YYYY-MM')
    .meta({ description: 'Billing cycle, YYYY-MM', example: '2026-12' });

export const invoiceLineSchema = z
  .object({
    caseNumber: z.string().nullable(),
    billingCycle: z.string(),
    customerName: z.string(),
    description: z.string(),
    amount: z.string().meta({ description: 'In yuan with 2 decimals, e.g. "12500.00" or "-12500.00"' }),
    currency: z.string(),
    amountCents: z.number().int().meta({ description: 'In fen; a credit is negative' }),
    sourceRef: z.string(),
    createdAt: z.string(),
    issuedAt: z.string().nullable(),
    customerId: z.uuid(),
    id: z.uuid(),
    href: z.string().nullable().meta({ description: "The case's resource" }),
  })
  .meta({ id: 'InvoiceLine' });

/** Fen to yuan with exactly 2 decimals, without floating point: -1250050 -> "-12500.50". */
export function yuanOf(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. Text that a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR) is prefixed with an apostrophe.
 */
export function csvField(value: string, text = true): string {
  const safe = text && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const CSV_COLUMNS = ['billing_cycle', 'customer', 'customer_id', 'case_number', 'description', 'amount_yuan', 'amount_cents', 'currency', 'source_ref', 'created_at'] as const;

function linesQuery(db: Db, filter: { cycle?: string | undefined; customerId?: string | undefined }) {
  let query = db
    .selectFrom('invoice_lines as l')
    .innerJoin('customers as k', 'k.id', 'l.customer_id')
    .leftJoin('cases as c', 'c.id', 'l.case_id');
  if (filter.cycle) query = query.where('l.billing_cycle', '=', filter.cycle);
  if (filter.customerId) query = query.where('l.customer_id', '=', filter.customerId);
  return query;
}

type LineRow = {
  id: string;
  billing_cycle: string;
  description: string;
  amount_cents: number;
  currency: string;
  source_ref: string;
  issued_at: Date | null;
  created_at: Date;
  customer_id: string;
  customer_name: string;
  case_number: string | null;
  case_kind: keyof typeof CASE_RESOURCES | null;
};

const LINE_COLUMNS = [
  'l.id', 'l.billing_cycle', 'l.description', 'l.amount_cents', 'l.currency', 'l.source_ref', 'l.issued_at', 'l.created_at', 'l.customer_id',
  'k.name as customer_name', 'c.number as case_number', 'c.kind as case_kind',
] as const;

function toLine(row: LineRow): z.input<typeof invoiceLineSchema> {
  return {
    id: row.id,
    billingCycle: row.billing_cycle,
    caseNumber: row.case_number,
    customerId: row.customer_id,
    customerName: row.customer_name,
    description: row.description,
    amountCents: row.amount_cents,
    amount: yuanOf(row.amount_cents),
    currency: row.currency,
    sourceRef: row.source_ref,
    issuedAt: row.issued_at ? new Date(row.issued_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
    href: row.case_number && row.case_kind ? `${CASE_RESOURCES[row.case_kind]}/${row.case_number}` : null,
  };
}

export function registerBillingRoutes(routes: ApiRoutes, deps: { db: Db }): void {
  const tag = 'Billing';
  routes
    .add({
      method: 'get', path: '/invoice-lines', tag,
      summary: 'Invoice lines, by billing cycle (newest first) and customer: charges and credits the processes wrote, with amounts in fen and in yuan',
      access: { roles: BILLING_READERS },
      query: pageQuerySchema.extend({ cycle: cycleField().optional(), customerId: z.uuid().optional() }),
      response: { schema: pageOf(invoiceLineSchema) },
      handler: async ({ query }) => {
        const select = linesQuery(deps.db, query);
        const [rows, count] = await Promise.all([
          select
            .select([...LINE_COLUMNS])
            .orderBy('l.billing_cycle', 'desc')
            .orderBy('k.name')
            .orderBy('l.created_at')
            .orderBy('l.id')
            .limit(query.limit)
            .offset(query.offset)
            .execute(),
          select.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        return { items: rows.map((row) => toLine(row)), total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/invoice-lines/export', tag,
      summary: 'A billing cycle as CSV (UTF-8 with BOM, RFC 4180 quoting): one row per invoice line, amounts in yuan with 2 decimals and in fen',
      access: { roles: BILLING_READERS },
      query: z.object({ cycle: cycleField(), customerId: z.uuid().optional() }),
      response: { schema: z.unknown(), mediaTypes: ['text/csv'], description: 'Attachment invoice-lines-<cycle>.csv' },
      handler: async ({ query, res }) => {
        const rows = (await linesQuery(deps.db, query).select([...LINE_COLUMNS]).orderBy('k.name').orderBy('l.created_at').orderBy('l.id').execute()) as LineRow[];
        const lines = [CSV_COLUMNS.join(',')];
        for (const row of rows) {
          lines.push(
            [
              csvField(row.billing_cycle), csvField(row.customer_name), csvField(row.customer_id), csvField(row.case_number ?? ''), csvField(row.description),
              csvField(yuanOf(row.amount_cents), false), String(row.amount_cents), csvField(row.currency), csvField(row.source_ref), new Date(row.created_at).toISOString(),
            ].join(','),
          );
        }
        res.status(200);
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="invoice-lines-${query.cycle}.csv"`);
        res.setHeader('Cache-Control', 'no-store');
        res.send(`\uFEFF${lines.join('\r\n')}\r\n`);
        return undefined;
      },
    });
}
