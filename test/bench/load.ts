// npm run bench:load: CLIENTS concurrent clients (default 200) for DURATION seconds (default 120)
// against `npm start` on its embedded defaults (a temporary DATA_DIR, a free PORT, LOG_LEVEL=warn):
// the embedded PostgreSQL, the local Temporal, the worker and the API in one process, as a developer
// runs it (issue 17 item 5, issue 18 item 6). Each client loops over a realistic mix: reads of loans
// and of every list the OpenAPI document offers (found there, not listed by hand), /me/tasks, the
// customer link pages of the links the shipment emails carry, and the spare-part steps (application,
// approval, shipment, receipt, return: each a Temporal Update through the API). Prints throughput,
// p50/p95/p99 per route group, errors (target: 0 that are not 4xx), the step latency (the HTTP step:
// the Update accepted and answered) and the worker's step lag (the API's stamp of a step to the
// worker's transaction that queued its email).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createUserWithToken } from '../../api/auth';
import { createPostgresDb } from '../../db';
import { cpuProbeMs } from './machine';
import { processTreeCpuSeconds } from './worker-process';
import { freeLocalPort } from '../../db/free-port';

const CLIENTS = Number(process.env.CLIENTS ?? 200);
const DURATION_S = Number(process.env.DURATION ?? 120);
const CUSTOMERS = 20;
const DEVICES_PER_CUSTOMER = 500;
const SEED_LOANS = Number(process.env.SEED_LOANS ?? 200);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Outcome {
  group: string;
  ms: number;
  status: number;
}

async function main(): Promise<void> {
  const probeMs = cpuProbeMs();
  const started = Date.now();
  const log = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-load-'));
  // The embedded PostgreSQL drops root for its own user, which must be able to enter DATA_DIR.
  fs.chmodSync(dataDir, 0o755);
  const port = await freeLocalPort();
  const base = `http://127.0.0.1:${port}`;
  log(`npm start on ${base}, DATA_DIR ${dataDir}`);
  // LOAD_CPU_PROF=<dir>: npm start's process writes its V8 CPU profile there when it stops.
  const profile = process.env.LOAD_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LOAD_CPU_PROF}`] : [];
  const app: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', path.resolve(__dirname, '../../worker/dev.ts')], {
    env: { ...process.env, NODE_OPTIONS: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'development', DATABASE_URL: '', TEMPORAL_ADDRESS: '', SMTP_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => app.once('exit', () => resolve()));
  try {
    for (;;) {
      const ready = await fetch(`${base}/readyz`).then((response) => response.status === 200, () => false);
      if (ready) break;
      if (app.exitCode !== null) throw new Error(`npm start exited with ${app.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    log('ready; seeding master data and users through the database npm start created');
    const db = createPostgresDb(fs.readFileSync(path.join(dataDir, 'database-url'), 'utf8').trim(), 4);
    const tokens: Record<string, string> = {};
    for (const role of ['service_desk', 'manager', 'billing', 'engineer'] as const) {
      tokens[role] = (await createUserWithToken(db, { name: `Load ${role}`, email: `${role}@load.test`, role })).token;
    }
    const product = await db.insertInto('products').values({ code: 'LOAD', name: 'Load part', product_line: 'network', list_price_cents: 100_000 }).returning('id').executeTakeFirstOrThrow();
    const devices: Array<{ customerId: string; contactId: string; serial: string }> = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      const customer = await db.insertInto('customers').values({ code: `L${c}`, name: `Load customer ${c}`, customer_class: 'B', sla_class: 'NBD', billing_day: 25, spare_part_first: true, downgraded_at: null }).returning('id').executeTakeFirstOrThrow();
      const contact = await db.insertInto('contacts').values({ customer_id: customer.id, name: `Contact ${c}`, email: `l${c}@load.test`, locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow();
      const serials = Array.from({ length: DEVICES_PER_CUSTOMER }, (_, d) => `L-${c}-${d}`);
      await db.insertInto('devices').values(serials.map((serial) => ({ serial, product_id: product.id, customer_id: customer.id, site_id: null, warranty_end: null, first_power_on_at: null }))).execute();
      devices.push(...serials.map((serial) => ({ customerId: customer.id, contactId: contact.id, serial })));
    }
    const bearer = (role: string) => ({ authorization: `Bearer ${tokens[role]}`, 'content-type': 'application/json' });

    // The lists a reader can open: every GET route of the OpenAPI document without a path parameter that answers a page.
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>> };
    const lists = Object.entries(document.paths)
      .filter(([route, methods]) => !route.includes('{') && methods.get?.parameters?.some((parameter) => parameter.in === 'query' && parameter.name === 'limit'))
      .map(([route]) => route);
    log(`lists from the OpenAPI document: ${lists.join(', ')}`);

    const outcomes: Outcome[] = [];
    const call = async (group: string, method: string, route: string, role: string | null, body?: unknown, accept = 'application/json'): Promise<{ status: number; json: unknown }> => {
      const at = performance.now();
      let status: number;
      let json: unknown;
      try {
        const response = await fetch(`${base}${route}`, { method, headers: { ...(role ? bearer(role) : {}), accept }, body: body === undefined ? undefined : JSON.stringify(body) });
        status = response.status;
        const text = await response.text();
        json = response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text;
      } catch {
        status = 0;
      }
      outcomes.push({ group, ms: performance.now() - at, status });
      return { status, json };
    };

    // Loans to read from the start, taken to "waiting for the part" (their shipment emails carry receipt links).
    let nextDevice = 0;
    const loansToRead: string[] = [];
    const advance = async (loanNumber: string, step: 'approve' | 'shipment' | 'receipt' | 'return', serial: string): Promise<number> => {
      const bodies = {
        approve: { comment: null },
        shipment: { replacementSerial: `R-${loanNumber}`, carrier: 'SF', trackingNumber: loanNumber },
        receipt: { receivedAt: new Date(Date.now() - 60_000).toISOString(), discrepancy: null },
        return: { returnedSerial: serial, faultTagPresent: true, discrepancy: null },
      };
      return (await call(`step ${step}`, 'POST', `/spare-parts/${loanNumber}/${step}`, step === 'approve' ? 'manager' : 'service_desk', bodies[step])).status;
    };
    const apply = async (): Promise<{ loanNumber: string; serial: string } | undefined> => {
      const device = devices[nextDevice++ % devices.length]!;
      const { status, json } = await call('step apply', 'POST', '/spare-parts', 'service_desk', { customerId: device.customerId, contactId: device.contactId, failedSerial: device.serial, faultDescription: 'load', deliveryAddress: 'load' });
      return status === 201 ? { loanNumber: (json as { loanNumber: string }).loanNumber, serial: device.serial } : undefined;
    };
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (loansToRead.length < SEED_LOANS) {
          const loan = await apply();
          if (!loan) continue;
          for (const step of ['approve', 'shipment'] as const) await advance(loan.loanNumber, step, loan.serial);
          loansToRead.push(loan.loanNumber);
        }
      }),
    );
    const mailDir = path.join(dataDir, 'mail');
    const linkPages = new Set<string>();
    for (const file of fs.existsSync(mailDir) ? fs.readdirSync(mailDir) : []) {
      const text = fs.readFileSync(path.join(mailDir, file), 'latin1').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      for (const match of text.matchAll(/https?:\/\/[^\s"'<>]+\/links\/([A-Za-z0-9._~-]+)/g)) linkPages.add(`/links/${match[1]}`);
    }
    const links = [...linkPages];
    log(`${loansToRead.length} loans shipped as the setup; ${links.length} customer link pages found in the captured mail`);
    outcomes.length = 0;

    const npmStartCpu = () => processTreeCpuSeconds([app.pid!, dataDir]);
    const cpuBefore = npmStartCpu();
    const endAt = Date.now() + DURATION_S * 1000;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
    const runStartedAt = Date.now();
    log(`${CLIENTS} clients for ${DURATION_S} s`);
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        // Each client has one loan of its own in progress, moved a step at a time between its reads.
        let own: { loanNumber: string; serial: string; next: number } | undefined;
        const steps = ['approve', 'shipment', 'receipt', 'return'] as const;
        while (Date.now() < endAt) {
          const roll = Math.random();
          if (roll < 0.35) await call('read loan', 'GET', `/spare-parts/${pick(loansToRead)}`, pick(['service_desk', 'manager', 'engineer']));
          else if (roll < 0.5) await call('list loans', 'GET', `/spare-parts?status=${pick(['open', 'due_soon', 'overdue', 'closed'])}`, 'service_desk');
          else if (roll < 0.6) await call('other lists', 'GET', pick(lists), pick(['service_desk', 'manager']));
          else if (roll < 0.65) await call('me/tasks', 'GET', '/me/tasks', pick(['service_desk', 'manager']));
          else if (roll < 0.75 && links.length > 0) await call('link page', 'GET', pick(links), null, undefined, 'text/html');
          else if (!own) {
            const loan = await apply();
            if (loan) own = { ...loan, next: 0 };
          } else {
            await advance(own.loanNumber, steps[own.next]!, own.serial);
            own.next += 1;
            if (own.next === steps.length) own = undefined;
          }
        }
      }),
    );
    const seconds = (Date.now() - runStartedAt) / 1000;
    const cpuAfter = npmStartCpu();
    const cpuByCommand = [...cpuAfter.entries()].map(([command, total]) => ({ command, seconds: total - (cpuBefore.get(command) ?? 0) })).sort((a, b) => b.seconds - a.seconds);
    const cpuSeconds = cpuByCommand.reduce((sum, entry) => sum + entry.seconds, 0);

    // The worker's step lag: the API's stamp of each step (its audit entry's occurred_at) to the worker's
    // transaction that queued the step's email (the outbox row's created_at), for the steps in the run.
    const lags = await sql<{ ms: number }>`
      select extract(epoch from (o.created_at - a.occurred_at)) * 1000 as ms
      from audit_events a join spare_part_loans l on l.case_id = a.case_id
      join email_outbox o on o.idempotency_key = 'spare-part/' || l.loan_number || '/' || case a.action when 'spare_part.shipped' then 'shipped' when 'spare_part.received' then 'return-deadline' end
      where a.action in ('spare_part.shipped', 'spare_part.received') and a.occurred_at >= ${new Date(runStartedAt)}`.execute(db);
    await db.destroy();

    const groups = new Map<string, Outcome[]>();
    for (const outcome of outcomes) groups.set(outcome.group, [...(groups.get(outcome.group) ?? []), outcome]);
    const lines = [`CPU probe: ${probeMs.toFixed(0)} ms; ${CLIENTS} clients for ${seconds.toFixed(0)} s against npm start (LOG_LEVEL=warn); npm start's processes (API + worker, embedded PostgreSQL, local Temporal) used ${cpuSeconds.toFixed(0)} CPU s = ${(cpuSeconds / seconds).toFixed(2)} cores`];
    lines.push(`CPU by process (cores): ${cpuByCommand.filter((entry) => entry.seconds >= 0.5).map((entry) => `${entry.command} ${(entry.seconds / seconds).toFixed(2)}`).join(', ')}`);
    lines.push(`throughput: ${outcomes.length} requests, ${(outcomes.length / seconds).toFixed(0)} req/s`);
    let serverErrors = 0;
    const stepLatencies: number[] = [];
    for (const [group, items] of [...groups.entries()].sort()) {
      const sorted = items.map((item) => item.ms).sort((a, b) => a - b);
      const bad = items.filter((item) => item.status === 0 || item.status >= 500).length;
      const clientErrors = items.filter((item) => item.status >= 400 && item.status < 500).length;
      serverErrors += bad;
      if (group.startsWith('step ') && group !== 'step apply') stepLatencies.push(...items.filter((item) => item.status === 200).map((item) => item.ms));
      lines.push(
        `${group.padEnd(14)} ${String(items.length).padStart(6)} (${(items.length / seconds).toFixed(1).padStart(6)}/s)  p50 ${percentile(sorted, 50).toFixed(0).padStart(5)} ms  p95 ${percentile(sorted, 95).toFixed(0).padStart(5)} ms  p99 ${percentile(sorted, 99).toFixed(0).padStart(5)} ms  4xx ${clientErrors}  5xx/failed ${bad}`,
      );
    }
    const steps = stepLatencies.sort((a, b) => a - b);
    lines.push(`step latency (HTTP step = Update accepted and answered, ${steps.length} steps): p50 ${percentile(steps, 50).toFixed(0)} ms, p99 ${percentile(steps, 99).toFixed(0)} ms`);
    const lagMs = lags.rows.map((row) => Number(row.ms)).sort((a, b) => a - b);
    lines.push(`worker step lag (API stamp -> worker's transaction, ${lagMs.length} shipments and receipts): p50 ${percentile(lagMs, 50).toFixed(0)} ms, p99 ${percentile(lagMs, 99).toFixed(0)} ms, max ${percentile(lagMs, 100).toFixed(0)} ms`);
    lines.push(`errors that are not 4xx: ${serverErrors} (target 0: ${serverErrors === 0 ? 'met' : 'MISSED'})`);
    console.log(lines.join('\n'));
    if (serverErrors > 0) process.exitCode = 1;
  } finally {
    if (app.pid) process.kill(-app.pid, 'SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
