// npm run bench:reminder-burst: LOANS open loans (default 10,000) received at the same instant, so
// that every reminder of a day falls due at the same 09:00 (China time) and every loan is overdue at
// the same midnight (issue 18, item 4). The production worker runs as a child process with its
// production cache and threads. Time is skipped to each reminder day's 09:00 in turn, then to the
// due instant; for each burst the lateness of every email (from the due instant, when the skipped
// clock reaches it, to its acceptance by SMTP) is printed as p50, p99 and max with emails/s, and for
// the midnight also of the invoice lines (their created_at) and the customers' downgrades. Target:
// every reminder accepted within 2 minutes of its 09:00, none twice; the same for the midnight.
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createMailer } from '../../activities/shared/mailer';
import { workerTuning } from '../../worker/tuning';
import { testSignedLinks } from '../support/app';
import { createTestDatabase } from '../support/db';
import { startTestSmtpServer, type ReceivedMail } from '../support/smtp';
import { createTestEnv } from '../support/temporal';
import { mib, openLoans } from './loans';
import { cpuProbeMs } from './machine';
import { startBenchWorker } from './worker-process';

const LOANS = Number(process.env.LOANS ?? 10_000);
const TARGET_MS = 120_000;
/** Give up on a burst after this long (it has then missed its target by far). */
const GIVE_UP_MS = 15 * 60_000;

const keyOf = (mail: ReceivedMail): string => {
  const key = mail.headers.get('x-fieldops-idempotency-key');
  return typeof key === 'string' ? key : '';
};

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function lateness(label: string, latenessMs: number[], count: number): { line: string; met: boolean } {
  const sorted = [...latenessMs].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1] ?? Number.NaN;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const met = sorted.length === count && max <= TARGET_MS;
  return {
    line: `${label}: ${sorted.length} of ${count}; lateness p50 ${seconds(percentile(sorted, 50))}, p99 ${seconds(percentile(sorted, 99))}, max ${seconds(max)}; ${(sorted.length / (max / 1000)).toFixed(0)}/s (target: all within 2 min: ${met ? 'met' : 'MISSED'})`,
    met,
  };
}

async function until(done: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > GIVE_UP_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const probeMs = cpuProbeMs();
  const tuning = workerTuning();
  const started = Date.now();
  const log = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
  const [database, smtp, env] = await Promise.all([createTestDatabase({ poolSize: 30 }), startTestSmtpServer({ headersOnly: true }), createTestEnv()]);
  const db = database.db;
  const taskQueue = `burst-${randomBytes(3).toString('hex')}`;
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'bench <bench@fieldops.test>', dataDir: 'var' });
  const worker = await startBenchWorker({ mode: 'fieldops', temporalAddress: env.address, taskQueue, databaseUrl: database.url, smtpUrl: smtp.url });
  const lines = [`CPU probe: ${probeMs.toFixed(0)} ms; ${LOANS} loans; worker cache ${tuning.maxCachedWorkflows} workflows, ${tuning.workflowThreads} workflow thread(s)`];
  console.log(lines[0]);
  let allMet = true;
  try {
    const { numbers } = await openLoans({ db, env, taskQueue, links: testSignedLinks(), mailer }, LOANS, log);
    const loan = await db.selectFrom('spare_part_loans').select(['reminder_dates', 'return_due_at']).where('loan_number', '=', numbers[0]!).executeTakeFirstOrThrow();
    const distinct = await db.selectFrom('spare_part_loans').select('return_due_at').distinct().execute();
    if (distinct.length !== 1) throw new Error(`the loans' deadlines differ (${distinct.length}): they were not received at one instant`);
    const cpuAtOpen = worker.cpuSeconds();
    const before = await worker.counters();

    for (const date of loan.reminder_dates ?? []) {
      const dueMs = Date.parse(`${date}T09:00:00+08:00`);
      const toSkip = dueMs - (await env.currentTimeMs());
      if (toSkip <= 0) continue;
      await env.sleep(toSkip);
      const dueAt = Date.now();
      log(`${date} 09:00 reached: ${LOANS} reminders due`);
      const isReminder = (mail: ReceivedMail) => keyOf(mail).endsWith(`/reminder/${date}`);
      const skipped = async () =>
        Number((await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).where('action', '=', 'spare_part.reminder_skipped').where('idempotency_key', 'like', `%/reminder/${date}`).executeTakeFirstOrThrow()).n);
      await until(async () => smtp.received.filter(isReminder).length + (await skipped()) >= LOANS);
      const mails = smtp.received.filter(isReminder);
      const keys = mails.map(keyOf);
      const duplicates = keys.length - new Set(keys).size;
      const result = lateness(`reminders of ${date}`, mails.map((mail) => mail.acceptedAt - dueAt), LOANS);
      allMet &&= result.met && duplicates === 0;
      lines.push(`${result.line}; duplicates ${duplicates}; skipped ${await skipped()}`);
      log(lines[lines.length - 1]!);
    }

    const dueMs = new Date(loan.return_due_at!).getTime();
    await env.sleep(dueMs - (await env.currentTimeMs()) + 1);
    const midnight = Date.now();
    log(`due instant ${new Date(dueMs).toISOString()} reached: ${LOANS} loans overdue`);
    const isNotice = (mail: ReceivedMail) => /\/overdue(\/manager\/.*)?$/.test(keyOf(mail));
    const noticesExpected = 2 * LOANS; // the customer's contact and the one manager
    await until(async () => smtp.received.filter(isNotice).length >= noticesExpected);
    const invoiceLines = await db.selectFrom('invoice_lines').select('created_at').execute();
    const downgrades = await db.selectFrom('customers').select('downgraded_at').where('downgraded_at', 'is not', null).execute();
    const notices = smtp.received.filter(isNotice);
    const keys = notices.map(keyOf);
    const duplicates = keys.length - new Set(keys).size;
    const customers = Math.ceil(LOANS / 100);
    for (const result of [
      lateness('invoice lines (created)', invoiceLines.map((row) => new Date(row.created_at).getTime() - midnight), LOANS),
      lateness('overdue notices (SMTP)', notices.map((mail) => mail.acceptedAt - midnight), noticesExpected),
    ]) {
      allMet &&= result.met;
      lines.push(result.line);
    }
    lines.push(`downgrades: ${downgrades.length} of ${customers} customers; notice duplicates ${duplicates}`);
    allMet &&= duplicates === 0 && downgrades.length === customers;
    const counters = await worker.counters();
    lines.push(
      `worker: CPU ${(worker.cpuSeconds() - cpuAtOpen).toFixed(1)} s over the bursts; RSS peak ${mib(worker.peakRssBytes())}; cache misses (replays) in the bursts ${counters.cacheMisses - before.cacheMisses}, forced evictions ${counters.forcedEvictions - before.forcedEvictions}`,
    );
    lines.push(allMet ? 'every target met' : 'some target MISSED');
    console.log(lines.join('\n'));
    if (!allMet) process.exitCode = 1;
  } finally {
    await worker.stop();
    await env.teardown();
    mailer.close();
    await Promise.all([database.drop(), smtp.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
