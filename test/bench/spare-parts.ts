// npm run bench:spare-parts: 10,000 open spare-part loans on one worker, time skipped past every
// deadline, half returned in time and half overdue. Prints wall time, worker and server RSS, emails
// and invoice lines; fails if the invoice lines are not exactly half the loans or any email repeats.
// LOANS=1000 npm run bench:spare-parts for a shorter run.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { systemClock } from '../../activities/shared/clock';
import { createMailer } from '../../activities/shared/mailer';
import { createUserWithToken } from '../../api/auth';
import { applyForSparePart } from '../../api/spare-part/registration';
import { createCalendarProvider } from '../../db/repositories/calendar';
import { createOutboxRelay } from '../../worker/outbox-relay';
import {
  approveSparePartUpdate,
  confirmSparePartReceiptUpdate,
  recordSparePartReturnUpdate,
  recordSparePartShipmentUpdate,
  sparePartWorkflowId,
} from '../../workflows/spare-part/definitions';
import { createActivities } from '../../activities';
import { testSignedLinks } from '../support/app';
import { createTestDatabase } from '../support/db';
import { workflowBundle } from '../support/process-harness';
import { startTestSmtpServer } from '../support/smtp';
import { createTestEnv } from '../support/temporal';
import { cpuProbeMs } from './machine';

const LOANS = Number(process.env.LOANS ?? 10_000);
const CUSTOMERS = Math.max(1, Math.ceil(LOANS / 100));
const CONCURRENCY = 32;
const DAY_MS = 86_400_000;

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const PAGE_BYTES = 4096;
const CLOCK_TICKS_PER_SECOND = 100;

/** RSS bytes and CPU seconds (user + system) so far of the live processes whose command line contains `pattern`. */
function processesMatching(pattern: string): { rss: number; cpuSeconds: number } {
  let rss = 0;
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(pattern)) continue;
      // Fields after the command name: state is [0], utime [11], stime [12], rss in pages [21].
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      rss += Number(fields[21]) * PAGE_BYTES;
    } catch {
      // The process ended while we looked.
    }
  }
  return { rss, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  // Thousands of per-loan info lines would only slow the run down.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const probeMs = cpuProbeMs();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const postgresCpuAtStart = processesMatching('postgres: ').cpuSeconds;
  const [database, smtp, env, bundle] = await Promise.all([createTestDatabase({ poolSize: 30 }), startTestSmtpServer({ headersOnly: true }), createTestEnv(), workflowBundle()]);
  const db = database.db;
  const taskQueue = `bench-${randomBytes(3).toString('hex')}`;
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'bench <bench@fieldops.test>', dataDir: 'var' });
  const links = testSignedLinks();
  // The worker process's outbox relay, as createWorker runs it, with the production defaults.
  const relay = createOutboxRelay({ db, mailer, clock: systemClock });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ db, mailer, clock: systemClock, links, calendar: createCalendarProvider(db), emailsQueued: () => relay.wake(), logger: pino({ level: 'silent' }) }),
    maxConcurrentActivityTaskExecutions: 100,
    maxCachedWorkflows: LOANS + 100,
  });
  relay.start();
  const running = worker.run();
  let peakWorkerRss = 0;
  let peakServerRss = 0;
  const sampler = setInterval(() => {
    peakWorkerRss = Math.max(peakWorkerRss, process.memoryUsage().rss);
    peakServerRss = Math.max(peakServerRss, processesMatching('temporal-test-server').rss);
  }, 1000);

  try {
    await createUserWithToken(db, { name: 'Bench manager', email: 'manager@bench.test', role: 'manager' });
    const product = await db.insertInto('products').values({ code: 'BENCH', name: 'Bench part', product_line: 'network', list_price_cents: 100_000 }).returning('id').executeTakeFirstOrThrow();
    const loans: Array<{ customerId: string; contactId: string; serial: string }> = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      const customer = await db
        .insertInto('customers')
        .values({ code: `C${c}`, name: `Customer ${c}`, customer_class: 'B', sla_class: 'NBD', billing_day: 25, spare_part_first: true, downgraded_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      const contact = await db.insertInto('contacts').values({ customer_id: customer.id, name: `Contact ${c}`, email: `c${c}@bench.test`, locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow();
      const serials = Array.from({ length: Math.min(100, LOANS - c * 100) }, (_, d) => `B-${c}-${d}`);
      await db.insertInto('devices').values(serials.map((serial) => ({ serial, product_id: product.id, customer_id: customer.id, site_id: null, warranty_end: null, first_power_on_at: null }))).execute();
      loans.push(...serials.map((serial) => ({ customerId: customer.id, contactId: contact.id, serial })));
    }
    const deps = { db, temporal: env.client, taskQueue, links, mailer, clock: systemClock };
    const stamp = () => ({ actor: 'bench', role: 'service_desk', at: new Date().toISOString() });
    const numbers: string[] = [];
    const serialOf = new Map<string, string>();
    console.log(`${elapsed()}: ${LOANS} devices in the installed base of ${CUSTOMERS} customers; applying`);
    await inBatches(loans, async (loan) => {
      const created = await applyForSparePart(deps, { ...loan, failedSerial: loan.serial, faultDescription: 'bench', deliveryAddress: 'bench', relatedCaseNumber: null }, stamp());
      numbers.push(created.loanNumber);
      serialOf.set(created.loanNumber, loan.serial);
    });
    const applied = Date.now();
    console.log(`${elapsed()}: applied; approving, shipping and confirming receipt`);
    const receivedAt = new Date(await env.currentTimeMs()).toISOString();
    await inBatches(numbers, async (number) => {
      const handle = env.client.workflow.getHandle(sparePartWorkflowId(number));
      await handle.executeUpdate(approveSparePartUpdate, { args: [{ ...stamp(), comment: null }] });
      await handle.executeUpdate(recordSparePartShipmentUpdate, { args: [{ ...stamp(), replacementSerial: `R-${number}`, carrier: 'SF', trackingNumber: number, shippedAt: receivedAt }] });
      await handle.executeUpdate(confirmSparePartReceiptUpdate, { args: [{ ...stamp(), receivedAt, discrepancy: null }] });
    });
    const setupDone = Date.now();
    console.log(`${elapsed()}: ${LOANS} loans open, each waiting for its failed part`);

    // Ten days on, the first half comes back in time; then every deadline passes.
    await env.sleep(10 * DAY_MS);
    const inTime = numbers.slice(0, Math.floor(numbers.length / 2));
    console.log(`${elapsed()}: ten days on (two reminders due on most loans); recording ${inTime.length} returns`);
    await inBatches(inTime, async (number) => {
      await env.client.workflow.getHandle(sparePartWorkflowId(number)).executeUpdate(recordSparePartReturnUpdate, { args: [{ ...stamp(), returnedSerial: serialOf.get(number)!, faultTagPresent: true, discrepancy: null, receivedAt: new Date(await env.currentTimeMs()).toISOString() }] });
    });
    console.log(`${elapsed()}: returns recorded; skipping past every deadline`);
    await env.sleep(40 * DAY_MS);
    const expectedLines = numbers.length - inTime.length;
    for (;;) {
      const { n } = await db.selectFrom('spare_part_loans').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'overdue').executeTakeFirstOrThrow();
      if (Number(n) >= expectedLines) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Let the last overdue notices drain from the outbox.
    for (let quiet = 0; quiet < 3; ) {
      const { busy } = await db.selectFrom('email_outbox').select((eb) => eb.fn.countAll<string>().as('busy')).where('status', '!=', 'sent').executeTakeFirstOrThrow();
      quiet = Number(busy) === 0 ? quiet + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const { lines } = await db.selectFrom('invoice_lines').select((eb) => eb.fn.countAll<string>().as('lines')).executeTakeFirstOrThrow();
    const { pending } = await db.selectFrom('email_outbox').select((eb) => eb.fn.countAll<string>().as('pending')).where('status', '!=', 'sent').executeTakeFirstOrThrow();
    const keys = smtp.received.map((mail) => mail.headers.get('x-fieldops-idempotency-key') as string);
    const duplicates = keys.length - new Set(keys).size;
    const finished = Date.now();
    const seconds = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
    const benchCpu = process.cpuUsage();
    const cpu = {
      bench: (benchCpu.user + benchCpu.system) / 1e6,
      server: processesMatching('temporal-test-server').cpuSeconds,
      postgres: processesMatching('postgres: ').cpuSeconds - postgresCpuAtStart,
    };
    console.log(
      [
        `CPU probe: ${probeMs.toFixed(0)} ms (lower is a faster machine; compare runs only at similar values)`,
        `loans: ${numbers.length} (${inTime.length} returned in time, ${expectedLines} overdue)`,
        `wall time: ${seconds(started, finished)}`,
        `  setup, ${numbers.length} applications through the API's application path: ${seconds(started, applied)}`,
        `  setup, approval, shipment and receipt (three Updates a loan): ${seconds(applied, setupDone)}`,
        `  chasing and billing, from ${numbers.length} open loans to every loan returned or billed: ${seconds(setupDone, finished)}`,
        `worker RSS peak: ${mib(peakWorkerRss)}; server RSS peak: ${mib(peakServerRss)}`,
        `CPU seconds: worker, client and SMTP (this process) ${cpu.bench.toFixed(1)}; Temporal server ${cpu.server.toFixed(1)}; PostgreSQL ${cpu.postgres.toFixed(1)}`,
        `emails received by SMTP: ${smtp.received.length} (duplicates: ${duplicates}; outbox rows not sent: ${pending})`,
        `invoice lines: ${lines}`,
      ].join('\n'),
    );
    if (Number(lines) !== expectedLines || duplicates !== 0) {
      console.error(`FAILED: expected ${expectedLines} invoice lines and no duplicate email`);
      process.exitCode = 1;
    }
  } finally {
    clearInterval(sampler);
    worker.shutdown();
    await running;
    await relay.stop();
    await env.teardown();
    mailer.close();
    await Promise.all([database.drop(), smtp.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
