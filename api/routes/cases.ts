import { z } from 'zod';
import type { Db } from '../../db';
import { CASE_KINDS, type CaseKind } from '../../db/schema';
import { ApiError } from '../errors';
import type { ApiRoutes } from '../route';
import { pageOf, pageQuerySchema } from '../route';

/** The resource of each kind of case: `${CASE_RESOURCES[kind]}/${caseNumber}` is its read model. */
export const CASE_RESOURCES: Record<CaseKind, string> = {
  fault_repair: '/fault-repairs',
  incident: '/incidents',
  batch_rectification: '/rectification-campaigns',
  spare_part: '/spare-parts',
  doa_claim: '/doa-claims',
  goods_claim: '/goods-claims',
  rma_repair: '/rma-repairs',
};

const caseParams = z.object({ caseNumber: z.string().min(1).max(64) });

const caseSummarySchema = z
  .object({
    caseNumber: z.string(),
    kind: z.enum(CASE_KINDS),
    status: z.string(),
    customerId: z.uuid().nullable(),
    customerName: z.string().nullable(),
    openedAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().nullable(),
    href: z.string().meta({ description: "The case's own resource (its process's read model)" }),
  })
  .meta({ id: 'CaseSummary' });

const caseEmailSchema = z
  .object({
    recipient: z.string(),
    subject: z.string(),
    template: z.string(),
    locale: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    queuedAt: z.string(),
    sentAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'CaseEmail' });

const iso = (value: Date | string) => new Date(value).toISOString();

function caseSummaryQuery(db: Db) {
  return db
    .selectFrom('cases as c')
    .leftJoin('customers as cu', 'cu.id', 'c.customer_id')
    .select(['c.number', 'c.kind', 'c.status', 'c.customer_id', 'cu.name as customer_name', 'c.created_at', 'c.updated_at', 'c.closed_at']);
}

type CaseSummaryRow = Awaited<ReturnType<ReturnType<typeof caseSummaryQuery>['executeTakeFirstOrThrow']>>;

function toCaseSummary(row: CaseSummaryRow): z.input<typeof caseSummarySchema> {
  return {
    caseNumber: row.number,
    kind: row.kind,
    status: row.status,
    customerId: row.customer_id,
    customerName: row.customer_name,
    openedAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    closedAt: row.closed_at ? iso(row.closed_at) : null,
    href: `${CASE_RESOURCES[row.kind]}/${row.number}`,
  };
}

/** Cases of every process: find one by number (and where it lives), list them, and the emails each sent. */
export function registerCaseRoutes(routes: ApiRoutes, deps: { db: Db }): void {
  const tag = 'Cases';
  routes
    .add({
      method: 'get', path: '/cases', tag, summary: 'Cases of every process, newest first: by kind, open or closed, customer, or a case number prefix', access: { roles: [] },
      query: pageQuerySchema.extend({
        kind: z.enum(CASE_KINDS).optional(),
        open: z.enum(['true', 'false']).optional().meta({ description: 'true: open cases only; false: closed only' }),
        customerId: z.uuid().optional(),
        number: z.string().min(1).max(64).optional().meta({ description: 'Case numbers starting with this' }),
      }),
      response: { schema: pageOf(caseSummarySchema) },
      handler: async ({ query }) => {
        let listed = deps.db.selectFrom('cases as c');
        if (query.kind) listed = listed.where('c.kind', '=', query.kind);
        if (query.open) listed = listed.where('c.closed_at', query.open === 'true' ? 'is' : 'is not', null);
        if (query.customerId) listed = listed.where('c.customer_id', '=', query.customerId);
        if (query.number) listed = listed.where('c.number', 'like', `${query.number.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
        const [{ total }, rows] = await Promise.all([
          listed.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
          caseSummaryQuery(deps.db)
            .where('c.id', 'in', listed.select('c.id').orderBy('c.created_at', 'desc').limit(query.limit).offset(query.offset))
            .orderBy('c.created_at', 'desc')
            .execute(),
        ]);
        return { items: rows.map(toCaseSummary), total: Number(total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/cases/:caseNumber', tag, summary: 'One case of any process by its number: kind, status and where its read model is', access: { roles: [] },
      params: caseParams, response: { schema: caseSummarySchema }, errors: [404],
      handler: async ({ params }) => {
        const row = await caseSummaryQuery(deps.db).where('c.number', '=', params.caseNumber).executeTakeFirst();
        if (!row) throw ApiError.notFound('case', params.caseNumber);
        return toCaseSummary(row);
      },
    })
    .add({
      method: 'get', path: '/cases/:caseNumber/emails', tag, summary: 'The emails a case sent or is sending, oldest first: to whom, what, and whether SMTP accepted them', access: { roles: [] },
      params: caseParams, response: { schema: z.object({ items: z.array(caseEmailSchema) }) }, errors: [404],
      handler: async ({ params }) => {
        const found = await deps.db.selectFrom('cases').select('id').where('number', '=', params.caseNumber).executeTakeFirst();
        if (!found) throw ApiError.notFound('case', params.caseNumber);
        const rows = await deps.db
          .selectFrom('email_outbox')
          .select(['recipient', 'subject', 'template', 'locale', 'status', 'attempts', 'created_at', 'sent_at', 'last_error'])
          .where('case_id', '=', found.id)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return {
          items: rows.map((row) => ({
            recipient: row.recipient,
            subject: row.subject,
            template: row.template,
            locale: row.locale,
            status: row.status,
            attempts: row.attempts,
            queuedAt: iso(row.created_at),
            sentAt: row.sent_at ? iso(row.sent_at) : null,
            lastError: row.last_error,
          })),
        };
      },
    });
}
