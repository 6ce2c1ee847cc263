// What the fault suite's scenarios share: a client that takes process steps as a careful caller does
// (an Idempotency-Key per step, a 503 or a dropped connection retried with the same key after
// Retry-After), the checks run after every fault, and the fault table.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import sharp from 'sharp';
import fs from 'node:fs';
import path from 'node:path';
import { createUsers } from '../support/app';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { HTTP_LIMIT_MS, eventually, pause, query, type ApiAnswer, type FaultStack } from './stack';

export type Role = 'admin' | 'manager' | 'service_desk' | 'engineer' | 'billing';

export interface Company {
  company: ServiceCompany<never>;
  tokens: Record<Role, string>;
}

export async function seedCompany(stack: FaultStack): Promise<Company> {
  const company = await seedServiceCompany(stack.db, { roles: [] });
  const tokens = (await createUsers(stack.db, ['admin', 'manager', 'service_desk', 'engineer', 'billing'])) as Record<Role, string>;
  return { company, tokens };
}

/** How a step ended for the caller, after its retries: for the fault table. */
export interface StepResult {
  answer: ApiAnswer;
  /** Every status seen on the way, e.g. ['503', '503', '200'] or ['connection error', '409 idempotency_key_in_progress', '200']. */
  seen: string[];
}

export interface StepOptions {
  deadlineMs?: number;
  /** Called once the first attempt's request is on its way: where a fault is injected. */
  onSent?: () => void;
}

/**
 * A step as a careful client takes it: one Idempotency-Key; a 503 (Retry-After honoured) or a dropped
 * connection is retried with the same key; a 409 `idempotency_key_in_progress` (the key is held by a
 * request whose API process died), `invalid_transition` or `process_closed` (an earlier attempt that
 * answered 503 went through meanwhile) is settled by reading the case: if it
 * reached `target`, the step was taken; otherwise the step is taken again under a new key.
 */
export async function takeStep(
  stack: FaultStack,
  label: string,
  route: string,
  token: string,
  body: unknown,
  read: () => Promise<string | undefined>,
  target: string,
  options: StepOptions = {},
): Promise<StepResult> {
  const seen: string[] = [];
  const started = Date.now();
  let key = randomUUID();
  for (;;) {
    const pending = stack.api(label, 'POST', route, token, body, { 'Idempotency-Key': key });
    options.onSent?.();
    options.onSent = undefined;
    const answer = await pending;
    seen.push(answer ? `${answer.status}${answer.body?.error?.code ? ` ${answer.body.error.code}` : ''}` : 'connection error');
    if (answer && answer.status < 300) return { answer, seen };
    if (Date.now() - started > (options.deadlineMs ?? 150_000)) throw new Error(`${label}: not taken (${seen.join(', ')})`);
    if (!answer || answer.status === 503) {
      await pause(answer ? Number(answer.headers['retry-after'] ?? 1) * 1000 : 1000);
      continue;
    }
    const code = answer.body?.error?.code;
    if (answer.status === 409 && (code === 'idempotency_key_in_progress' || code === 'invalid_transition' || code === 'process_closed')) {
      const status = await read().catch(() => undefined);
      if (status === target) return { answer, seen };
      if (code === 'idempotency_key_in_progress') key = randomUUID();
      await pause(1000);
      continue;
    }
    throw new Error(`${label}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

/** A GET that is retried while it answers 503 (Retry-After honoured). */
export async function readJson(stack: FaultStack, label: string, route: string, token: string, timeoutMs = 120_000): Promise<ApiAnswer> {
  const started = Date.now();
  for (;;) {
    const answer = await stack.api(label, 'GET', route, token);
    if (answer && answer.status === 200) return answer;
    if (answer && answer.status !== 503) throw new Error(`${label}: ${answer.status} ${JSON.stringify(answer.body)}`);
    if (Date.now() - started > timeoutMs) throw new Error(`${label}: still ${answer ? answer.status : 'unreachable'} after ${timeoutMs} ms`);
    await pause(answer ? Number(answer.headers['retry-after'] ?? 1) * 1000 : 1000);
  }
}

const hourAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

/** A spare-part loan through the API, step by step, so that a fault can be injected at any one of them. */
export function sparePartLoan(stack: FaultStack, { company, tokens }: Company, serial: string) {
  let loanNumber = '';
  const status = async () => (await readJson(stack, `read ${serial}`, `/spare-parts/${loanNumber}`, tokens.service_desk)).body.status as string;
  const step = (name: string, route: string, role: Role, body: unknown, target: string, options?: StepOptions) =>
    takeStep(stack, `${name} ${serial}`, `/spare-parts/${loanNumber}/${route}`, tokens[role], body, status, target, options);
  return {
    get number() {
      return loanNumber;
    },
    status,
    async apply(options?: StepOptions) {
      await company.addDevice(serial);
      const body = { customerId: company.customerId, contactId: company.contactId, failedSerial: serial, faultDescription: 'line card dead', deliveryAddress: '88 Century Ave, Shanghai' };
      const result = await takeStep(stack, `apply ${serial}`, '/spare-parts', tokens.service_desk, body, async () => undefined, 'never', options);
      loanNumber = result.answer.body.loanNumber;
      return result;
    },
    approve: (options?: StepOptions) => step('approve', 'approve', 'manager', {}, 'approved', options),
    ship: (options?: StepOptions) =>
      step('ship', 'shipment', 'service_desk', { replacementSerial: `R-${serial}`, carrier: 'SF Express', trackingNumber: `SF-${serial}`, shippedAt: hourAgo(3) }, 'shipped', options),
    receive: (options?: StepOptions) => step('receive', 'receipt', 'service_desk', { receivedAt: hourAgo(2) }, 'awaiting_return', options),
    giveBack: (options?: StepOptions) =>
      step('return', 'return', 'service_desk', { returnedSerial: serial, faultTagPresent: true, receivedAt: hourAgo(1) }, 'returned', options),
    async wholeLoan() {
      await this.apply();
      await this.approve();
      await this.ship();
      await this.receive();
      await this.giveBack();
    },
  };
}

export type Loan = ReturnType<typeof sparePartLoan>;

/**
 * Holds the case's rows locked (FOR UPDATE, in a transaction of the suite's own) so that a step on it
 * stops mid-transaction, its read done and its writes waiting: the moment a fault is injected.
 * `blocked()` resolves once a session waits on the lock; `release()` rolls the holder back.
 */
export async function holdCase(stack: FaultStack, caseNumber: string): Promise<{ blocked(): Promise<void>; release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: stack.databaseUrl });
  holder.on('error', () => undefined);
  await holder.connect();
  await holder.query('begin');
  await holder.query('select 1 from cases where number = $1 for update', [caseNumber]);
  await holder.query('select 1 from spare_part_loans l join cases c on c.id = l.case_id where c.number = $1 for update of l', [caseNumber]);
  const holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  return {
    blocked: async () => {
      await eventually(
        async () => (await holder.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [holderPid])).rows[0]!.n,
        (waiting) => waiting > 0,
        `a step waiting on ${caseNumber}`,
        20_000,
      );
    },
    release: async () => {
      await holder.query('rollback').catch(() => undefined);
      await holder.end().catch(() => undefined);
    },
  };
}

/** A case's audit actions and outbox templates, sorted: two loans that went the same way have the same. */
export async function caseTrail(stack: FaultStack, caseNumber: string): Promise<{ audit: string[]; emails: string[]; invoiceLines: string[] }> {
  const [audit, emails, invoiceLines] = await Promise.all([
    query<{ action: string }>(stack, 'select a.action from audit_events a join cases c on c.id = a.case_id where c.number = $1 order by 1', [caseNumber]),
    query<{ template: string }>(stack, 'select o.template from email_outbox o join cases c on c.id = o.case_id where c.number = $1 order by 1', [caseNumber]),
    query<{ source_ref: string }>(stack, 'select i.source_ref from invoice_lines i join cases c on c.id = i.case_id where c.number = $1 order by 1', [caseNumber]),
  ]);
  return { audit: audit.map((row) => row.action), emails: emails.map((row) => row.template), invoiceLines: invoiceLines.map((row) => row.source_ref) };
}

/** Every outbox row sent, each received exactly once by Message-ID, none received twice: returns the counts. */
export async function checkMail(stack: FaultStack, timeoutMs = 60_000): Promise<{ rows: number; received: number }> {
  const rows = await eventually(
    () => query<{ key: string; status: string; message_id: string }>(stack, `select idempotency_key as key, status, '<' || left(encode(sha256(convert_to(idempotency_key, 'UTF8')), 'hex'), 40) || '@fieldops>' as message_id from email_outbox`),
    (all) => all.every((row) => row.status === 'sent'),
    'every outbox email sent',
    timeoutMs,
  );
  // The relay records a send just after SMTP accepted it; the capture reports it before its 250.
  const received = stack.mails.map((mail) => mail.messageId);
  const duplicates = received.filter((id, index) => received.indexOf(id) !== index);
  expect({ duplicates }).toEqual({ duplicates: [] });
  expect({ missing: rows.filter((row) => !received.includes(row.message_id)).map((row) => row.key) }).toEqual({ missing: [] });
  expect({ unknown: received.filter((id) => !rows.some((row) => row.message_id === id)) }).toEqual({ unknown: [] });
  const keys = rows.map((row) => row.key);
  expect(new Set(keys).size).toBe(keys.length);
  return { rows: rows.length, received: received.length };
}

/** No invoice line twice (by source) and no audit entry twice (by idempotency key), across the database. */
export async function checkNoDoubles(stack: FaultStack): Promise<void> {
  expect(await query(stack, 'select source_ref, count(*) from invoice_lines group by 1 having count(*) > 1')).toEqual([]);
  expect(await query(stack, 'select idempotency_key, count(*) from audit_events where idempotency_key is not null group by 1 having count(*) > 1')).toEqual([]);
  expect(await query(stack, 'select idempotency_key, count(*) from email_outbox group by 1 having count(*) > 1')).toEqual([]);
}

/** Every HTTP call answered within the limit, and no 5xx but a 503 with Retry-After. */
export function checkCalls(stack: FaultStack): { calls: number; slowestMs: number; unavailable: number; dropped: number } {
  const slow = stack.calls.filter((call) => call.ms >= HTTP_LIMIT_MS);
  const bad = stack.calls.filter((call) => typeof call.status === 'number' && call.status >= 500 && !(call.status === 503 && call.retryAfter));
  expect({ slow, bad }).toEqual({ slow: [], bad: [] });
  return {
    calls: stack.calls.length,
    slowestMs: Math.max(...stack.calls.map((call) => call.ms)),
    unavailable: stack.calls.filter((call) => call.status === 503).length,
    dropped: stack.calls.filter((call) => call.status === 'connection error').length,
  };
}

export interface FaultRow {
  fault: string;
  process: string;
  moment: string;
  outcome: string;
}

const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

/**
 * Records one suite file's rows (test/artifacts/faults/<file>.json) and writes the whole table from
 * every file's rows to test/artifacts/fault-table.md (copied into the README's "Faults survived").
 */
export function writeFaultTable(file: string, rows: FaultRow[], summary: string): void {
  const dir = path.join(ARTIFACTS, 'faults');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${file}.json`), JSON.stringify({ rows, summary }, null, 2));
  const parts = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { rows: FaultRow[]; summary: string });
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '| fault | process | injected | outcome |',
    '| --- | --- | --- | --- |',
    ...parts.flatMap((part) => part.rows).map((row) => `| ${cell(row.fault)} | ${cell(row.process)} | ${cell(row.moment)} | ${cell(row.outcome)} |`),
    '',
    ...parts.map((part) => part.summary),
  ];
  fs.writeFileSync(path.join(ARTIFACTS, 'fault-table.md'), `${lines.join('\n')}\n`);
}

/** The customer's signing link in a captured mail. */
function linkIn(stack: FaultStack, subject: string): string | undefined {
  const mail = stack.mails.find((captured) => captured.subject.includes(subject));
  return mail ? /https?:\/\/[^/\s]+(\/links\/[\w.-]+)/.exec(mail.text)?.[1] : undefined;
}

/**
 * A fault repair solved remotely, through the API: registered, diagnosed, its service report written
 * by the engineer and signed by the customer through the link in the sign-off's email: follow_up.
 */
export function faultRepair(stack: FaultStack, { company, tokens }: Company, serial: string) {
  let caseNumber = '';
  let reportId = '';
  const read = async () => (await readJson(stack, `read ${serial}`, `/fault-repairs/${caseNumber}`, tokens.service_desk)).body;
  const status = async () => (await read()).status as string;
  return {
    get number() {
      return caseNumber;
    },
    status,
    async register() {
      await company.addDevice(serial);
      const body = { customerId: company.customerId, contactId: company.contactId, deviceSerial: serial, symptoms: 'All ports on slot 3 down', actionsTaken: 'Card reseated', suspectedCause: 'Line card', severity: 'minor', reportedAt: new Date(Date.now() - 60_000).toISOString() };
      const result = await takeStep(stack, `register ${serial}`, '/fault-repairs', tokens.service_desk, body, async () => undefined, 'never');
      caseNumber = result.answer.body.caseNumber;
      await eventually(read, (repair) => repair.targets?.length === 4, `${caseNumber}: SLA targets set`);
      return result;
    },
    async solveRemotely() {
      const result = await takeStep(
        stack,
        `diagnosis ${serial}`,
        `/fault-repairs/${caseNumber}/diagnosis`,
        tokens.engineer,
        { outcome: 'solved_remotely', findings: 'Cleared a stuck alarm remotely', restoredAt: new Date().toISOString() },
        status,
        'reporting',
      );
      reportId = (await read()).serviceReport.id;
      return result;
    },
    async writeReport() {
      return takeStep(stack, `report ${serial}`, `/documents/${reportId}/versions`, tokens.engineer, { content: { summary: 'Alarm cleared', workDone: 'Remote login, alarm cleared' } }, async () => undefined, 'never');
    },
    /** The customer signs through the emailed link, once the mail has arrived (waits up to `timeoutMs`). */
    async sign(timeoutMs = 60_000) {
      const link = await eventually(() => linkIn(stack, `Please sign: Service report ${caseNumber} (version 1)`), Boolean, `${caseNumber}: the signing link mailed`, timeoutMs);
      const result = await takeStep(stack, `sign ${serial}`, link!, '', { decision: 'signed' }, async () => undefined, 'never');
      await eventually(status, (value) => value === 'follow_up', `${caseNumber}: follow_up`);
      return result;
    },
  };
}

/** Runs `fault` in the background from the moment the step's call is sent; the step's result and the fault's end are awaited together. */
export function during(fault: () => Promise<void>): { onSent: () => void; done: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  return {
    onSent: () => {
      running = fault();
    },
    done: () => running,
  };
}

/** ['503', '503', '200'] -> '503 ×2 → 200' */
export function compact(seen: string[]): string {
  const runs: { what: string; times: number }[] = [];
  for (const what of seen) {
    const last = runs[runs.length - 1];
    if (last?.what === what) last.times += 1;
    else runs.push({ what, times: 1 });
  }
  return runs.map((run) => (run.times > 1 ? `${run.what} ×${run.times}` : run.what)).join(' → ');
}

let pngShade = 0;
/** A tiny PNG of its own colour: each evidence file of a case needs bytes of its own. */
async function uniquePng(): Promise<Buffer> {
  pngShade += 1;
  return sharp({ create: { width: 2, height: 2 + Math.floor(pngShade / 200), channels: 3, background: { r: pngShade % 200, g: 40, b: 90 } } }).png().toBuffer();
}

/** The evidence a transport-damage claim asks for as files (the rest are identifiers and the device serial). */
const TRANSPORT_DAMAGE_FILES = [
  'goods-problem application form',
  'clear photos of the damaged item and close-ups of the damage',
  'clear photos of all six sides of the inner and outer packaging',
  'delivery note marked damaged or lost',
  'tilt/shock labels',
];

/**
 * A transport-damage goods claim through the API: registered with every identifier, its evidence files
 * uploaded (the workflow moves it to `resolution` once all are there), then credited by the desk: one
 * invoice line (a credit) for the customer.
 */
export function goodsClaim(stack: FaultStack, { company, tokens }: Company, serial: string) {
  let claimNumber = '';
  const read = async () => (await readJson(stack, `read ${serial}`, `/goods-claims/${claimNumber}`, tokens.service_desk)).body;
  const status = async () => (await read()).status as string;
  return {
    get number() {
      return claimNumber;
    },
    status,
    async registerWithEvidence() {
      await company.addDevice(serial);
      const yesterday = new Date(Date.now() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10);
      const body = {
        customerId: company.customerId,
        contactId: company.contactId,
        description: 'Two line cards arrived with the outer box crushed',
        kind: 'transport_damage',
        arrivedOn: yesterday,
        claimedAt: new Date().toISOString(),
        carriedByUs: true,
        deviceSerials: [serial],
        identifiers: { packingListNumber: `PL-${serial}`, boxNumber: 'BOX-3', quantity: 2, materialCode: 'NE40E-LPU-02' },
      };
      const registered = await takeStep(stack, `register ${serial}`, '/goods-claims', tokens.service_desk, body, async () => undefined, 'never');
      claimNumber = registered.answer.body.claimNumber;
      for (const item of TRANSPORT_DAMAGE_FILES) {
        const boundary = `fieldops-${randomUUID()}`;
        const png = await uniquePng();
        const multipart = Buffer.concat([
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="item"\r\n\r\n${item}\r\n`),
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="evidence.png"\r\nContent-Type: image/png\r\n\r\n`),
          png,
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]);
        const uploaded = await stack.api(`evidence ${serial}`, 'POST', `/cases/${claimNumber}/evidence`, tokens.service_desk, multipart, { 'Content-Type': `multipart/form-data; boundary=${boundary}` });
        if (uploaded?.status !== 201) throw new Error(`evidence ${item}: ${uploaded?.status} ${JSON.stringify(uploaded?.body)}`);
      }
      await eventually(status, (value) => value === 'resolution', `${claimNumber}: complete, in resolution`);
    },
    credit: (amountCents: number, options?: StepOptions) =>
      takeStep(stack, `credit ${serial}`, `/goods-claims/${claimNumber}/resolution`, tokens.service_desk, { outcome: 'credit', amountCents, note: 'carrier damage' }, status, 'credited', options),
  };
}
