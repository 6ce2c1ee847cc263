// npm run bench:spare-parts: spare-part loans on one worker, time skipped past every deadline, half
// returned in time and half overdue, measured against the SDK's own floor in the same run (issue 18).
// For each size in SIZES (default "1000,10000"): first the floor (bench:sdk-floor's workload,
// FLOOR_WORKFLOWS workflows of 16 no-op local activities) on a fresh worker process, then the loans on
// a fresh production worker process (createWorker) with the same start-up: same script, same cache
// and threads (WORKER_MAX_CACHED_WORKFLOWS, WORKER_THREADS). Both workers are child processes, so their
// CPU and RSS are the worker's alone. Prints activations per loan, worker CPU per activation for the
// loans and the floor and their ratio (target <= 1.3x), cost per loan at each size (10,000 within 1.2x
// of 1,000), peak worker RSS (target < 1 GiB) and the evictions' cost (sticky cache misses = full
// replays); fails if the invoice lines are not exactly half the loans or any email repeats.
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createMailer } from '../../activities/shared/mailer';
import { recordSparePartReturnUpdate, sparePartWorkflowId } from '../../workflows/spare-part/definitions';
import { DEFAULT_WORKER_TUNING, workerTuning } from '../../worker/tuning';
import { testSignedLinks } from '../support/app';
import { createTestDatabase } from '../support/db';
import { startTestSmtpServer } from '../support/smtp';
import { createTestEnv } from '../support/temporal';
import { inBatches, mib, openLoans, outboxNotSent, processesMatching, stamp, untilQuiet } from './loans';
import { cpuProbeMs } from './machine';
import { STEPS } from './sdk-floor-workflows';
import { activationsOf, countersSince, startBenchWorker, type WorkerCounters } from './worker-process';

const SIZES = (process.env.SIZES ?? process.env.LOANS ?? '1000,10000').split(',').map(Number);
const FLOOR_WORKFLOWS = Number(process.env.FLOOR_WORKFLOWS ?? 1000);
const DAY_MS = 86_400_000;
const CPU_RATIO_TARGET = 1.3;
const SCALE_TARGET = 1.2;
const RSS_TARGET = 1024 ** 3;

interface Floor {
  workflows: number;
  activations: number;
  cpuSeconds: number;
  wallSeconds: number;
}

interface LoanRun {
  loans: number;
  counters: WorkerCounters;
  cpuSeconds: number;
  wallSeconds: number;
  phases: { apply: number; updates: number; chase: number };
  peakRss: number;
  serverRss: number;
  /** CPU seconds of the Temporal test server (the project's engine, its own process) over the run. */
  serverCpuSeconds: number;
  emails: number;
  duplicates: number;
  invoiceLines: number;
  failed: boolean;
}

/** bench:sdk-floor's workload on its own worker process. */
async function measureFloor(): Promise<Floor> {
  const env = await createTestEnv();
  const taskQueue = `floor-${randomBytes(3).toString('hex')}`;
  const worker = await startBenchWorker({ mode: 'floor', temporalAddress: env.address, taskQueue });
  try {
    const before = await worker.counters();
    const cpuBefore = worker.cpuSeconds();
    const started = Date.now();
    const ids = Array.from({ length: FLOOR_WORKFLOWS }, (_, index) => `${taskQueue}-${index}`);
    await inBatches(ids, (workflowId) => env.client.workflow.execute('emptySteps', { workflowId, taskQueue }), 200);
    const wallSeconds = (Date.now() - started) / 1000;
    const counters = countersSince(before, await worker.counters());
    return { workflows: FLOOR_WORKFLOWS, activations: activationsOf(counters), cpuSeconds: worker.cpuSeconds() - cpuBefore, wallSeconds };
  } finally {
    await worker.stop();
    await env.teardown();
  }
}

async function measureLoans(count: number, log: (line: string) => void): Promise<LoanRun> {
  const [database, smtp, env] = await Promise.all([createTestDatabase({ poolSize: 30 }), startTestSmtpServer({ headersOnly: true }), createTestEnv()]);
  const db = database.db;
  const taskQueue = `bench-${randomBytes(3).toString('hex')}`;
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'bench <bench@fieldops.test>', dataDir: 'var' });
  const worker = await startBenchWorker({ mode: 'fieldops', temporalAddress: env.address, taskQueue, databaseUrl: database.url, smtpUrl: smtp.url });
  // This run's test server: its command line ends with the port it serves.
  const server = () => processesMatching(`temporal-test-server ${env.address.split(':').pop()}`);
  let peakServerRss = 0;
  const sampler = setInterval(() => {
    peakServerRss = Math.max(peakServerRss, server().rss);
  }, 1000);
  try {
    const before = await worker.counters();
    const cpuBefore = worker.cpuSeconds();
    const serverCpuBefore = server().cpuSeconds;
    const started = Date.now();
    const open = await openLoans({ db, env, taskQueue, links: testSignedLinks(), mailer }, count, log);
    const { numbers, serialOf } = open;

    // Ten days on, the first half comes back in time; then every deadline passes.
    await env.sleep(10 * DAY_MS);
    const inTime = numbers.slice(0, Math.floor(numbers.length / 2));
    log(`ten days on (two reminders due on most loans); recording ${inTime.length} returns`);
    await inBatches(inTime, async (number) => {
      await env.client.workflow
        .getHandle(sparePartWorkflowId(number))
        .executeUpdate(recordSparePartReturnUpdate, { args: [{ ...stamp(), returnedSerial: serialOf.get(number)!, faultTagPresent: true, discrepancy: null, receivedAt: new Date(await env.currentTimeMs()).toISOString() }] });
    });
    log('returns recorded; skipping past every deadline');
    await env.sleep(40 * DAY_MS);
    const expectedLines = numbers.length - inTime.length;
    for (;;) {
      const { n } = await db.selectFrom('spare_part_loans').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'overdue').executeTakeFirstOrThrow();
      if (Number(n) >= expectedLines) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Let the last overdue notices drain from the outbox.
    await untilQuiet(() => outboxNotSent(db));
    const finished = Date.now();
    const counters = countersSince(before, await worker.counters());
    const cpuSeconds = worker.cpuSeconds() - cpuBefore;
    const { lines } = await db.selectFrom('invoice_lines').select((eb) => eb.fn.countAll<string>().as('lines')).executeTakeFirstOrThrow();
    const keys = smtp.received.map((mail) => mail.headers.get('x-fieldops-idempotency-key') as string);
    const duplicates = keys.length - new Set(keys).size;
    return {
      loans: numbers.length,
      counters,
      cpuSeconds,
      wallSeconds: (finished - started) / 1000,
      phases: { apply: (open.appliedAt - started) / 1000, updates: (open.openAt - open.appliedAt) / 1000, chase: (finished - open.openAt) / 1000 },
      peakRss: worker.peakRssBytes(),
      serverRss: peakServerRss,
      serverCpuSeconds: server().cpuSeconds - serverCpuBefore,
      emails: smtp.received.length,
      duplicates,
      invoiceLines: Number(lines),
      failed: Number(lines) !== expectedLines || duplicates !== 0,
    };
  } finally {
    clearInterval(sampler);
    await worker.stop();
    await env.teardown();
    mailer.close();
    await Promise.all([database.drop(), smtp.close()]);
  }
}

const met = (ok: boolean) => (ok ? 'met' : 'MISSED');

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const probeMs = cpuProbeMs();
  const tuning = workerTuning();
  const started = Date.now();
  const log = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
  console.log(`CPU probe: ${probeMs.toFixed(0)} ms (lower is a faster machine; compare runs only at similar values)`);
  console.log(`worker: cache ${tuning.maxCachedWorkflows} workflows, ${tuning.workflowThreads} workflow thread(s) (defaults ${DEFAULT_WORKER_TUNING.maxCachedWorkflows}, ${DEFAULT_WORKER_TUNING.workflowThreads})`);
  const results: Array<{ floor: Floor; run: LoanRun }> = [];
  let failed = false;
  for (const size of SIZES) {
    log(`floor: ${FLOOR_WORKFLOWS} workflows x ${STEPS} no-op local activities on a fresh worker process`);
    const floor = await measureFloor();
    log(`loans: ${size} on a fresh worker process`);
    const run = await measureLoans(size, log);
    results.push({ floor, run });
    failed ||= run.failed;
    const floorMs = (floor.cpuSeconds * 1000) / floor.activations;
    const activations = activationsOf(run.counters);
    const loanMs = (run.cpuSeconds * 1000) / activations;
    console.log(
      [
        `--- ${run.loans} loans ---`,
        `floor: ${floor.workflows} workflows, ${floor.activations} activations in ${floor.wallSeconds.toFixed(1)} s; worker CPU ${floor.cpuSeconds.toFixed(1)} s = ${floorMs.toFixed(3)} ms per activation`,
        `loans: wall ${run.wallSeconds.toFixed(1)} s (applications ${run.phases.apply.toFixed(1)} s, three Updates a loan ${run.phases.updates.toFixed(1)} s, chasing and billing ${run.phases.chase.toFixed(1)} s)`,
        `  activations: ${activations} = ${(activations / run.loans).toFixed(1)} per loan (${run.counters.workflowTasks} workflow tasks, ${run.counters.localActivities} local activities)`,
        `  worker CPU ${run.cpuSeconds.toFixed(1)} s = ${loanMs.toFixed(3)} ms per activation = ${((run.cpuSeconds * 1000) / run.loans).toFixed(1)} ms per loan`,
        `  CPU per activation, loans / floor: ${(loanMs / floorMs).toFixed(2)}x (target <= ${CPU_RATIO_TARGET}x: ${met(loanMs / floorMs <= CPU_RATIO_TARGET)})`,
        `  Temporal test server (the project's engine) CPU ${run.serverCpuSeconds.toFixed(1)} s = ${((run.serverCpuSeconds * 1000) / run.loans).toFixed(1)} ms per loan (${(run.serverCpuSeconds / run.wallSeconds).toFixed(2)} cores over the run)`,
        `  worker RSS peak ${mib(run.peakRss)} (target < 1 GiB: ${met(run.peakRss < RSS_TARGET)}); test server RSS peak ${mib(run.serverRss)}`,
        `  cache: ${run.counters.cacheHits} sticky hits, ${run.counters.cacheMisses} misses (each a replay of the whole history), ${run.counters.forcedEvictions} forced evictions`,
        `  emails ${run.emails} (duplicates ${run.duplicates}); invoice lines ${run.invoiceLines}${run.failed ? ' FAILED: expected half the loans billed and no duplicate' : ''}`,
      ].join('\n'),
    );
  }
  if (results.length > 1) {
    const perLoan = results.map(({ run }) => run.cpuSeconds / run.loans);
    const perLoanWall = results.map(({ run }) => run.wallSeconds / run.loans);
    const first = results[0]!.run.loans;
    const last = results[results.length - 1]!.run.loans;
    const ratio = perLoan[perLoan.length - 1]! / perLoan[0]!;
    console.log(
      [
        `--- scale ---`,
        ...results.map(({ run }, index) => `${run.loans} loans: ${(perLoan[index]! * 1000).toFixed(1)} ms worker CPU and ${(perLoanWall[index]! * 1000).toFixed(1)} ms wall per loan`),
        `worker CPU per loan, ${last} / ${first}: ${ratio.toFixed(2)}x (target <= ${SCALE_TARGET}x: ${met(ratio <= SCALE_TARGET)}); wall per loan ${(perLoanWall[perLoanWall.length - 1]! / perLoanWall[0]!).toFixed(2)}x`,
      ].join('\n'),
    );
  }
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
