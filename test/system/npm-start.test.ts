import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { embeddedPostgresPaths, readEmbeddedDatabaseUrl } from '../../db/embedded-postgres';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp';
import { freeLocalPort } from '../../db/free-port';

// `npm start` exactly as a user runs it (embedded PostgreSQL, the durable local Temporal, the
// worker and the API in one process) on an empty DATA_DIR, stopped by SIGKILL and by SIGTERM and
// started again on the same folder. DEV_CLOCK_START puts the clock 45 s before a spare-part loan's
// first return reminder (received 2026-09-24, due 2026-10-22, reminders from 2026-10-15 09:00
// China time), so the reminder comes due during the test instead of in 15 working days.

const ROOT = path.resolve(__dirname, '..', '..');
const CLOCK_START = '2026-10-15T00:59:15Z';
const STOP_LIMIT_MS = 15_000;
/** Tables whose rows the API answered 2xx for: every one must be there after a SIGKILL. */
const RECORDED_TABLES = ['customers', 'contacts', 'products', 'devices', 'users', 'cases', 'spare_part_loans', 'audit_events', 'email_outbox'] as const;

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dataDir: string;
let port: number;
let smtp: TestSmtpServer;
let running: Started | undefined;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms (${JSON.stringify(value)})`);
    await pause(200);
  }
}

/** The environment of a user's shell: no DATABASE_URL or TEMPORAL_ADDRESS, so the embedded defaults run. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), SMTP_URL: smtp.url, DEV_CLOCK_START: CLOCK_START, LOG_LEVEL: 'info' };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'NODE_ENV', 'NODE_OPTIONS', 'JEST_WORKER_ID']) delete env[name];
  return env;
}

function run(args: string[]): Started {
  // Its own process group, so that a SIGKILL takes npm and node together, as a crash would.
  const child = spawn('npm', args, { cwd: ROOT, env: userEnvironment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => text, exited };
}

/**
 * One HTTP request on a connection of its own (no keep-alive pool): the server is killed with SIGKILL
 * between requests, and a pooled idle socket reset by that kill must not surface as an error.
 */
function httpRequest(method: string, route: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: route, method, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked by the assertions
async function api(method: string, route: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const response = await httpRequest(method, route, { Authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) }, payload);
  return { status: response.status, body: response.text ? JSON.parse(response.text) : undefined };
}

async function startFieldops(): Promise<Started> {
  const started = run(['start']);
  running = started;
  await eventually(
    async () => {
      if (started.child.exitCode !== null) throw new Error(`npm start exited:\n${started.output()}`);
      return httpRequest('GET', '/readyz', {}).then((response) => response.status, () => 0);
    },
    (status) => status === 200,
    'npm start ready at /readyz',
    120_000,
  );
  return started;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killFieldops(started: Started): Promise<void> {
  process.kill(-started.child.pid!, 'SIGKILL');
  await started.exited;
  running = undefined;
  await eventually(() => groupAlive(started.child.pid!), (alive) => !alive, 'every process of npm start gone', 10_000);
}

/** SIGTERM to the PID of `npm start` only: it must stop everything, PostgreSQL too, within the limit. */
async function stopFieldops(started: Started): Promise<number> {
  const began = Date.now();
  started.child.kill('SIGTERM');
  await started.exited;
  running = undefined;
  await eventually(() => fs.existsSync(path.join(embeddedPostgresPaths(dataDir).cluster, 'postmaster.pid')), (exists) => !exists, 'PostgreSQL stopped', STOP_LIMIT_MS);
  return Date.now() - began;
}

async function withDatabase<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: readEmbeddedDatabaseUrl(dataDir) });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

async function recordedIds(): Promise<Record<string, string[]>> {
  return withDatabase(async (client) => {
    const ids: Record<string, string[]> = {};
    for (const table of RECORDED_TABLES) {
      const key = table === 'spare_part_loans' ? 'case_id' : 'id';
      ids[table] = (await client.query<{ id: string }>(`select ${key}::text as id from ${table} order by 1`)).rows.map((row) => row.id);
    }
    return ids;
  });
}

function postmasterPid(): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(embeddedPostgresPaths(dataDir).cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

const reminderMails = () => smtp.received.filter((mail) => mail.subject.includes('due in 5 working days'));

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-npm-start-'));
  // The embedded PostgreSQL runs as user postgres when the tests run as root.
  fs.chmodSync(dataDir, 0o755);
  port = await freeLocalPort();
  smtp = await startTestSmtpServer();
});

afterAll(async () => {
  if (running && groupAlive(running.child.pid!)) {
    process.kill(-running.child.pid!, 'SIGKILL');
    await running.exited;
  }
  const leftover = postmasterPid();
  if (leftover) {
    try {
      process.kill(leftover, 'SIGQUIT');
    } catch {
      // Already gone.
    }
  }
  await smtp.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('npm start on an empty DATA_DIR: a SIGKILL loses nothing the API confirmed, the loan goes on after the restart, its reminder is sent once; SIGTERM stops everything', async () => {
  // First start: the embedded PostgreSQL is created, the development admin's token printed once.
  let fieldops = await startFieldops();
  const admin = /API token \(shown once\): (\S+)/.exec(fieldops.output())?.[1];
  expect(admin).toBeDefined();
  const tokens: Record<string, string> = {};
  for (const role of ['manager', 'service_desk'] as const) {
    const created = await api('POST', '/users', admin!, { name: `A ${role}`, email: `${role}@fieldops.test`, role });
    expect(created.status).toBe(201);
    tokens[role] = created.body.token;
  }
  const customer = await api('POST', '/customers', admin!, { code: 'CMCC-SH', name: 'China Mobile Shanghai', customerClass: 'A', slaClass: '7x24', billingDay: 25, sparePartFirst: true });
  expect(customer.status).toBe(201);
  const contact = await api('POST', '/contacts', admin!, { customerId: customer.body.id, name: 'Li Lei', email: 'lilei@cmcc.test', locale: 'en' });
  const product = await api('POST', '/products', admin!, { code: 'OLT-9000', name: 'OLT line card', productLine: 'network', listPriceCents: 1_250_000 });
  const device = await api('POST', '/devices', admin!, { serial: 'SN-RESTART', productId: product.body.id, customerId: customer.body.id, warrantyEnd: '2027-03-31' });
  expect([contact.status, product.status, device.status]).toEqual([201, 201, 201]);

  // A user created from the command line while npm start runs can use the API at once.
  const cli = run(['run', 'user:create', '--', '--name', 'Bai Ling', '--email', 'billing@fieldops.test', '--role', 'billing']);
  expect((await cli.exited).code).toBe(0);
  const billing = /API token \(shown once, keep it safe\): (\S+)/.exec(cli.output())?.[1];
  expect(billing).toBeDefined();
  expect((await api('GET', '/spare-parts', billing!)).status).toBe(200);

  const applied = await api('POST', '/spare-parts', tokens.service_desk!, {
    customerId: customer.body.id,
    contactId: contact.body.id,
    failedSerial: 'SN-RESTART',
    faultDescription: 'line card dead, service degraded',
    deliveryAddress: '88 Century Ave, Shanghai',
  });
  expect(applied.status).toBe(201);
  const loan: string = applied.body.loanNumber;
  expect((await api('POST', `/spare-parts/${loan}/approve`, tokens.manager!, {})).status).toBe(200);
  const beforeCrash = await recordedIds();
  expect(beforeCrash.cases).toHaveLength(1);

  await killFieldops(fieldops);

  // Second start on the same folder: everything confirmed before the crash is there and the loan goes on.
  fieldops = await startFieldops();
  expect(fieldops.output()).not.toContain('API token (shown once)');
  const afterCrash = await recordedIds();
  for (const table of RECORDED_TABLES) expect({ table, missing: beforeCrash[table]!.filter((id) => !afterCrash[table]!.includes(id)) }).toEqual({ table, missing: [] });
  expect((await api('GET', '/spare-parts', billing!)).status).toBe(200);
  expect((await api('GET', `/spare-parts/${loan}`, admin!)).body.status).toBe('approved');

  const shipped = await api('POST', `/spare-parts/${loan}/shipment`, tokens.service_desk!, {
    replacementSerial: 'R-SN-RESTART',
    carrier: 'SF Express',
    trackingNumber: 'SF1234567',
    shippedAt: '2026-09-23T10:00:00+08:00',
  });
  expect(shipped.status).toBe(200);
  const received = await api('POST', `/spare-parts/${loan}/receipt`, tokens.service_desk!, { receivedAt: '2026-09-24T10:00:00+08:00' });
  expect(received.status).toBe(200);
  expect(received.body).toMatchObject({
    status: 'awaiting_return',
    returnDeadline: { dueDate: '2026-10-22', reminderDates: ['2026-10-15', '2026-10-21', '2026-10-22'] },
  });

  // The first reminder falls due at 09:00 China time on 2026-10-15, a few seconds of the test clock away.
  await eventually(reminderMails, (mails) => mails.length >= 1, 'the first return reminder', 90_000);
  await pause(2_000);
  expect(reminderMails()).toHaveLength(1);
  expect(reminderMails()[0]!.to).toEqual(['lilei@cmcc.test']);

  const stopMs = await stopFieldops(fieldops);
  expect(stopMs).toBeLessThan(STOP_LIMIT_MS);
  expect(postmasterPid()).toBeUndefined();

  // Third start after the graceful stop: nothing is sent again, nothing is orphaned, the loan can be closed.
  fieldops = await startFieldops();
  await pause(3_000);
  expect(reminderMails()).toHaveLength(1);
  const messageIds = smtp.received.map((mail) => mail.messageId);
  expect(new Set(messageIds).size).toBe(messageIds.length);
  const consistency = await api('GET', '/admin/consistency', admin!);
  expect(consistency.status).toBe(200);
  expect(consistency.body).toMatchObject({ openCases: 1, runningWorkflows: 1, orphanedCases: [], workflowsWithoutCase: [] });
  const returned = await api('POST', `/spare-parts/${loan}/return`, tokens.service_desk!, { returnedSerial: 'SN-RESTART', faultTagPresent: true, receivedAt: '2026-10-15T10:00:00+08:00' });
  expect(returned.status).toBe(200);
  expect(returned.body).toMatchObject({ status: 'returned', remindersSent: ['2026-10-15'], invoiceLines: [] });
  const reminderAudits = await withDatabase(async (client) => (await client.query("select count(*)::int as n from audit_events where action = 'spare_part.reminder_sent'")).rows[0].n);
  expect(reminderAudits).toBe(1);
  expect(fieldops.output()).not.toMatch(/"level":50/);

  expect(await stopFieldops(fieldops)).toBeLessThan(STOP_LIMIT_MS);
}, 400_000);
