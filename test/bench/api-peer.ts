// The bare peers of bench:api, in their own process: Express and `pg` with nothing else (no
// authentication, validation, logging or query builder), giving the same bytes as fieldops:
//   GET /static                       (a) a fixed response: the limit of Express on this machine
//   GET /b1/spare-parts[/:loanNumber] (b1) the SQL fieldops runs, captured from its read model
//   GET /b2/spare-parts[/:loanNumber] (b2) the best hand-written SQL: one prepared statement a request
// The loan's JSON is built by the read model's own mapping (loanDto), so that answers are identical.
import fs from 'node:fs';
import express from 'express';
import pg from 'pg';
import { loanDto, type LoanRow } from '../../api/spare-part/read-model';

type Details = { [K in 'events' | 'lines']: Parameters<typeof loanDto>[K extends 'events' ? 1 : 2] };

export interface CapturedQuery {
  sql: string;
  parameters: unknown[];
}

/** What bench:api hands the peer: fieldops' queries for one loan and for the benched page, and a loan's answer. */
export interface PeerCapture {
  loanNumber: string;
  caseId: string;
  detail: CapturedQuery[];
  list: CapturedQuery[];
  listStatuses: string[];
  staticBody: string;
}

const LOAN_COLUMNS = `l.*, k.workflow_id, c.name as customer_name, d.serial as failed_serial, r.number as related_case_number
  from spare_part_loans l
  join cases k on k.id = l.case_id
  join customers c on c.id = l.customer_id
  join devices d on d.id = l.failed_device_id
  left join cases r on r.id = l.related_case_id`;

const DETAIL_SQL = `select ${LOAN_COLUMNS.replace('\n  from', `,
  (select coalesce(json_agg(e order by e.id), '[]') from audit_events e where e.case_id = l.case_id) as events,
  (select coalesce(json_agg(i order by i.created_at), '[]') from invoice_lines i where i.case_id = l.case_id) as lines
  from`)}
  where l.loan_number = $1`;

const LIST_SQL = `select l.*, k.workflow_id, c.name as customer_name, d.serial as failed_serial, r.number as related_case_number,
  (select count(*) from spare_part_loans t where t.status = any($1::text[])) as total
  from (select * from spare_part_loans where status = any($1::text[]) order by loan_number desc limit $2 offset $3) l
  join cases k on k.id = l.case_id
  join customers c on c.id = l.customer_id
  join devices d on d.id = l.failed_device_id
  left join cases r on r.id = l.related_case_id
  order by l.loan_number desc`;

const replace = (parameters: unknown[], from: unknown, to: unknown) => parameters.map((value) => (value === from ? to : value));

// As fieldops reads them (db/index.ts): calendar dates stay 'YYYY-MM-DD' strings.
pg.types.setTypeParser(1082, (value: string) => value);

function main(): void {
  const capture = JSON.parse(fs.readFileSync(process.env.PEER_CAPTURE!, 'utf8')) as PeerCapture;
  const pool = new pg.Pool({ connectionString: process.env.PEER_DATABASE_URL, max: 10 });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.get('/static', (_req, res) => {
    res.type('application/json').send(capture.staticBody);
  });

  app.get('/b1/spare-parts/:loanNumber', async (req, res) => {
    const [first, ...rest] = capture.detail;
    const { rows } = await pool.query(first!.sql, replace(first!.parameters, capture.loanNumber, req.params.loanNumber));
    const row = rows[0] as (LoanRow & Partial<Details>) | undefined;
    if (!row) return void res.status(404).end();
    // fieldops reads the timeline and invoice lines in the loan's statement, or (before) in queries of their own.
    const [events, lines] = rest.length === 0 ? [row.events, row.lines] : await Promise.all(rest.map(async (query) => (await pool.query(query.sql, replace(query.parameters, capture.caseId, row.case_id))).rows));
    res.json(loanDto(row, (events ?? []) as Details['events'], (lines ?? []) as Details['lines']));
  });

  app.get('/b1/spare-parts', async (req, res) => {
    const [page, count] = await Promise.all(capture.list.map((query) => pool.query(query.sql, query.parameters)));
    const total = Number(((count ?? page)!.rows[0] as { total: string }).total);
    res.json({ items: (page!.rows as LoanRow[]).map((row) => loanDto(row, [], [])), total, limit: Number(req.query.limit ?? 50), offset: Number(req.query.offset ?? 0) });
  });

  app.get('/b2/spare-parts/:loanNumber', async (req, res) => {
    const { rows } = await pool.query({ name: 'peer-detail', text: DETAIL_SQL, values: [req.params.loanNumber] });
    const row = rows[0] as (LoanRow & Details) | undefined;
    if (!row) return void res.status(404).end();
    res.json(loanDto(row, row.events, row.lines));
  });

  app.get('/b2/spare-parts', async (req, res) => {
    const limit = Number(req.query.limit ?? 50);
    const offset = Number(req.query.offset ?? 0);
    const { rows } = await pool.query({ name: 'peer-list', text: LIST_SQL, values: [capture.listStatuses, limit, offset] });
    const total = rows.length > 0 ? Number((rows[0] as { total: string }).total) : 0;
    res.json({ items: (rows as LoanRow[]).map((row) => loanDto(row, [], [])), total, limit, offset });
  });

  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

main();
