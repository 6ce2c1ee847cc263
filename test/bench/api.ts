// npm run bench:api: fieldops' spare-part detail and list against bare peers, measured from outside
// with autocannon in one run (issue 18, item 5), on LOANS loans (default 10,000) in a fresh database:
//   (a)  a static Express response of a loan's bytes: the limit
//   (b1) bare Express + pg running the SQL fieldops runs (captured from its read model)
//   (b2) bare Express + pg with the best hand-written SQL (one prepared statement a request)
//   (c)  fieldops' own API process (authentication, validation, read model), LOG_LEVEL=warn
// at 1, 16 and 64 connections (CONNECTIONS), DURATION seconds each (default 8). Prints requests/s,
// p50/p99 and the ratios c/b1, c/b2, c/a, then fieldops at LOG_LEVEL=info against warn in the same
// run. Targets: c/b2 >= 0.8 for detail and list; list p99 < 50 ms at 16 connections. Every answer of
// the peers is checked byte-identical to fieldops' before measuring.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createUserWithToken } from '../../api/auth';
import { listLoans, loadLoan } from '../../api/spare-part/read-model';
import type { Database } from '../../db/schema';
import { SPARE_PART_OPEN_STATUSES } from '../../workflows/spare-part/definitions';
import { createTestDatabase } from '../support/db';
import type { CapturedQuery, PeerCapture } from './api-peer';
import { cpuProbeMs } from './machine';
import { freeLocalPort } from '../../db/free-port';

const LOANS = Number(process.env.LOANS ?? 10_000);
const CONNECTIONS = (process.env.CONNECTIONS ?? '1,16,64').split(',').map(Number);
const DURATION = Number(process.env.DURATION ?? 8);
const LIST_QUERY = '?status=open&limit=50';
const RATIO_TARGET = 0.8;
const LIST_P99_TARGET_MS = 50;

/** 10,000 loans as the steps leave them (70% waiting for the part, 10% overdue and billed, 20% returned), each with its audit trail. */
async function seed(url: string, loans: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`insert into products (code, name, product_line, list_price_cents) values ('BENCH', 'Bench part', 'network', 100000)`);
    await client.query(
      `insert into customers (code, name, customer_class, sla_class, billing_day, spare_part_first)
       select 'C' || g, 'Customer ' || g, 'B', 'NBD', 25, true from generate_series(0, $1::int - 1) g`,
      [Math.ceil(loans / 100)],
    );
    await client.query(`insert into contacts (customer_id, name, email, locale) select id, 'Contact ' || code, lower(code) || '@bench.test', 'en' from customers`);
    await client.query(
      `insert into devices (serial, product_id, customer_id)
       select 'B-' || g, (select id from products), (select id from customers where code = 'C' || (g / 100)) from generate_series(0, $1::int - 1) g`,
      [loans],
    );
    await client.query(
      `insert into cases (kind, number, status, customer_id, device_id, workflow_id, created_at)
       select 'spare_part', 'SP-2026-' || lpad((g + 1)::text, 6, '0'),
              case when g % 10 < 7 then 'awaiting_return' when g % 10 = 7 then 'overdue' else 'returned' end,
              d.customer_id, d.id, 'spare-part/SP-2026-' || lpad((g + 1)::text, 6, '0'), now() - interval '20 days'
       from generate_series(0, $1::int - 1) g join devices d on d.serial = 'B-' || g`,
      [loans],
    );
    await client.query(
      `insert into spare_part_loans (case_id, loan_number, customer_id, contact_id, failed_device_id, fault_description, delivery_address, status,
         applied_by, applied_by_role, applied_at, decided_by, decided_at, replacement_serial, carrier, tracking_number, shipped_at, replacement_warranty_end,
         received_at, receipt_confirmed_by, return_due_date, return_due_at, return_deadline_provisional, return_deadline_missing_years, first_reminder_date, reminder_dates,
         returned_at, fault_tag_present, overdue_at)
       select k.id, k.number, k.customer_id, ct.id, k.device_id, 'line card dead', '88 Century Ave, Shanghai', k.status,
         'Desk', 'service_desk', '2026-03-02T02:00:00Z', 'Manager', '2026-03-02T03:00:00Z', 'R-' || k.number, 'SF', k.number, '2026-03-02T06:00:00Z', '2027-03-02',
         '2026-03-03T02:00:00Z', 'Desk', '2026-03-24', '2026-03-24T15:59:59.999Z', false, '{}', '2026-03-17', '{2026-03-17,2026-03-23,2026-03-24}',
         case when k.status = 'returned' then '2026-03-10T02:00:00Z'::timestamptz end, case when k.status = 'returned' then true end,
         case when k.status = 'overdue' then '2026-03-24T15:59:59.999Z'::timestamptz end
       from cases k join contacts ct on ct.customer_id = k.customer_id where k.kind = 'spare_part'`,
    );
    await client.query(
      `insert into audit_events (case_id, occurred_at, actor, actor_role, action, comment, data)
       select l.case_id, l.applied_at + (s.n || ' hours')::interval, 'Desk', 'service_desk', s.action, null,
              case when s.action = 'spare_part.reminder_sent' then jsonb_build_object('date', '2026-03-17') else '{}'::jsonb end
       from spare_part_loans l
       cross join (values (0, 'spare_part.applied'), (1, 'spare_part.approved'), (4, 'spare_part.shipped'), (24, 'spare_part.received'), (360, 'spare_part.reminder_sent')) as s(n, action)`,
    );
    await client.query(
      `insert into invoice_lines (customer_id, case_id, billing_cycle, description, amount_cents, source_ref)
       select customer_id, case_id, '2026-04', 'Spare part not returned: ' || loan_number, 100000, 'spare-part/' || loan_number || '/overdue'
       from spare_part_loans where status = 'overdue'`,
    );
    await client.query('analyze');
  } finally {
    await client.end();
  }
}

/** fieldops' queries for one loan's detail and for the benched page, from the read model through Kysely's log hook. */
async function captureQueries(url: string, loanNumber: string): Promise<{ detail: CapturedQuery[]; list: CapturedQuery[] }> {
  const captured: CapturedQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
    log: (event) => {
      if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: [...event.query.parameters] });
    },
  });
  try {
    await loadLoan(db, loanNumber);
    const detail = captured.splice(0);
    await listLoans(db, { statuses: SPARE_PART_OPEN_STATUSES.filter((status) => status !== 'overdue') }, { limit: 50, offset: 0 });
    // The page before the count, as fieldops sends them.
    const list = captured.splice(0).sort((a, b) => Number(a.sql.includes('count(')) - Number(b.sql.includes('count(')));
    return { detail, list };
  } finally {
    await db.destroy();
  }
}

async function startChild(script: string, env: NodeJS.ProcessEnv, nodeOptions: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', path.join(__dirname, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening\n')) {
        // Keep draining whatever it logs after this, without holding on to it.
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it listened`)));
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function measure(url: string, connections: number, headers: Record<string, string>, paths: () => string, duration = DURATION): Promise<Measured> {
  const result = await autocannon({
    url,
    connections,
    duration,
    headers,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths() }) }],
  });
  return { requestsPerSecond: result.requests.total / duration, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function main(): Promise<void> {
  const probeMs = cpuProbeMs();
  const started = Date.now();
  const log = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
  const database = await createTestDatabase();
  const children: ChildProcess[] = [];
  try {
    log(`seeding ${LOANS} loans`);
    await seed(database.url, LOANS);
    const { token } = await createUserWithToken(database.db, { name: 'Bench reader', email: 'reader@bench.test', role: 'service_desk' });
    const numbers = (await database.db.selectFrom('spare_part_loans').select('loan_number').execute()).map((row) => row.loan_number);
    const sample = numbers[0]!;
    const sampleLoan = await loadLoan(database.db, sample);
    const queries = await captureQueries(database.url, sample);
    const capture: PeerCapture = {
      loanNumber: sample,
      caseId: sampleLoan.caseId,
      detail: queries.detail,
      list: queries.list,
      listStatuses: SPARE_PART_OPEN_STATUSES.filter((status) => status !== 'overdue'),
      staticBody: JSON.stringify(sampleLoan),
    };
    const capturePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-api-')), 'capture.json');
    fs.writeFileSync(capturePath, JSON.stringify(capture));
    log(`fieldops runs ${queries.detail.length} queries for a loan and ${queries.list.length} for a page of 50`);

    const [peerPort, warnPort, infoPort] = await Promise.all([freeLocalPort(), freeLocalPort(), freeLocalPort()]);
    const apiEnv = (port: number, level: string) => ({ NODE_ENV: 'development', DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: level, LOG_FORMAT: 'json', DATA_DIR: path.dirname(capturePath), TEMPORAL_ADDRESS: '' });
    children.push(await startChild('api-peer.ts', { PEER_CAPTURE: capturePath, PEER_DATABASE_URL: database.url, PORT: String(peerPort) }));
    // BENCH_API_CPU_PROF=<dir>: fieldops' API process (at warn) writes its V8 CPU profile there when it stops.
    children.push(await startChild('api-server.ts', apiEnv(warnPort, 'warn'), process.env.BENCH_API_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_API_CPU_PROF}`] : []));
    children.push(await startChild('api-server.ts', apiEnv(infoPort, 'info')));
    const peer = `http://127.0.0.1:${peerPort}`;
    const fieldops = `http://127.0.0.1:${warnPort}`;
    const fieldopsInfo = `http://127.0.0.1:${infoPort}`;
    const auth = { authorization: `Bearer ${token}` };

    // The same bytes from every side, or the comparison means nothing.
    const body = async (url: string, headers: Record<string, string> = {}) => {
      const response = await fetch(url, { headers });
      if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
      return response.text();
    };
    for (const number of [sample, numbers[7]!, numbers[LOANS - 1]!]) {
      const ours = await body(`${fieldops}/spare-parts/${number}`, auth);
      for (const side of ['b1', 'b2']) {
        const theirs = await body(`${peer}/${side}/spare-parts/${number}`);
        if (theirs !== ours) {
          let at = 0;
          while (theirs[at] === ours[at]) at++;
          throw new Error(`${side}'s answer for ${number} differs from fieldops' at ${at}: ${theirs.slice(at - 40, at + 80)} / ${ours.slice(at - 40, at + 80)}`);
        }
      }
    }
    const ourList = await body(`${fieldops}/spare-parts${LIST_QUERY}`, auth);
    for (const side of ['b1', 'b2']) {
      if ((await body(`${peer}/${side}/spare-parts${LIST_QUERY}`)) !== ourList) throw new Error(`${side}'s list differs from fieldops'`);
    }
    if ((await body(`${peer}/static`)) !== (await body(`${fieldops}/spare-parts/${sample}`, auth))) throw new Error('the static answer differs');
    log(`answers byte-identical (detail ${ourList.length > 0 ? (capture.staticBody.length / 1024).toFixed(1) : 0} KiB, page of 50 ${(ourList.length / 1024).toFixed(1)} KiB); measuring ${DURATION} s per cell`);

    let next = 0;
    const anyLoan = () => `/spare-parts/${numbers[next++ % numbers.length]}`;
    const targets = {
      a: { url: peer, headers: {}, paths: () => '/static' },
      'b1 detail': { url: peer, headers: {}, paths: () => `/b1${anyLoan()}` },
      'b2 detail': { url: peer, headers: {}, paths: () => `/b2${anyLoan()}` },
      'c detail': { url: fieldops, headers: auth, paths: anyLoan },
      'b1 list': { url: peer, headers: {}, paths: () => `/b1/spare-parts${LIST_QUERY}` },
      'b2 list': { url: peer, headers: {}, paths: () => `/b2/spare-parts${LIST_QUERY}` },
      'c list': { url: fieldops, headers: auth, paths: () => `/spare-parts${LIST_QUERY}` },
    } as const;
    // Warm every side up (JIT, connection pools, PostgreSQL's caches) before anything counts.
    for (const target of Object.values(targets)) await measure(target.url, 16, target.headers, target.paths, 2);
    await measure(fieldopsInfo, 16, auth, anyLoan, 2);
    await measure(fieldopsInfo, 16, auth, () => `/spare-parts${LIST_QUERY}`, 2);

    const results = new Map<string, Measured>();
    const row = (name: string, m: Measured) =>
      `${name.padEnd(22)} ${m.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${String(m.p50).padStart(4)} ms  p99 ${String(m.p99).padStart(4)} ms${m.non2xx + m.errors > 0 ? `  non-2xx ${m.non2xx}, errors ${m.errors}` : ''}`;
    for (const connections of CONNECTIONS) {
      for (const [name, target] of Object.entries(targets)) {
        const m = await measure(target.url, connections, target.headers, target.paths);
        results.set(`${name} @${connections}`, m);
        log(row(`${name} @${connections}`, m));
      }
    }
    const logging = {
      detailWarn: await measure(fieldops, 16, auth, anyLoan),
      detailInfo: await measure(fieldopsInfo, 16, auth, anyLoan),
      listWarn: await measure(fieldops, 16, auth, () => `/spare-parts${LIST_QUERY}`),
      listInfo: await measure(fieldopsInfo, 16, auth, () => `/spare-parts${LIST_QUERY}`),
    };

    const rate = (key: string) => results.get(key)!.requestsPerSecond;
    const lines = [`CPU probe: ${probeMs.toFixed(0)} ms; ${LOANS} loans; ${DURATION} s per cell; fieldops ${queries.detail.length} queries a loan, ${queries.list.length} a page`];
    let allMet = true;
    for (const kind of ['detail', 'list'] as const) {
      for (const connections of CONNECTIONS) {
        const c = rate(`c ${kind} @${connections}`);
        const vsB2 = c / rate(`b2 ${kind} @${connections}`);
        const p99 = results.get(`c ${kind} @${connections}`)!.p99;
        let verdict = `c/b2 >= ${RATIO_TARGET}: ${vsB2 >= RATIO_TARGET ? 'met' : 'MISSED'}`;
        if (kind === 'list' && connections === 16) verdict += `; p99 ${p99} ms < ${LIST_P99_TARGET_MS}: ${p99 < LIST_P99_TARGET_MS ? 'met' : 'MISSED'}`;
        if (vsB2 < RATIO_TARGET || (kind === 'list' && connections === 16 && p99 >= LIST_P99_TARGET_MS)) allMet = false;
        lines.push(`${kind} @${connections}: c ${c.toFixed(0)} req/s; c/b1 ${(c / rate(`b1 ${kind} @${connections}`)).toFixed(2)}, c/b2 ${vsB2.toFixed(2)}, c/a ${(c / rate(`a @${connections}`)).toFixed(2)} (${verdict})`);
      }
    }
    lines.push(
      `logging at info against warn, 16 connections: detail ${logging.detailInfo.requestsPerSecond.toFixed(0)} vs ${logging.detailWarn.requestsPerSecond.toFixed(0)} req/s (${(logging.detailInfo.requestsPerSecond / logging.detailWarn.requestsPerSecond).toFixed(2)}x), ` +
        `list ${logging.listInfo.requestsPerSecond.toFixed(0)} vs ${logging.listWarn.requestsPerSecond.toFixed(0)} req/s (${(logging.listInfo.requestsPerSecond / logging.listWarn.requestsPerSecond).toFixed(2)}x)`,
    );
    lines.push(allMet ? 'every target met' : 'some target MISSED');
    console.log(lines.join('\n'));
  } finally {
    for (const child of children) await stopChild(child);
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
