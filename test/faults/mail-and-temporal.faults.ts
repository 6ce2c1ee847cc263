// SMTP faults: the mail server down for 2 minutes (from the moment the system starts, so that the
// outage overlaps the worker's and the API's start-up), then slow (10 s a message), while spare-part
// loans and fault repairs (with the customer's signature through the emailed link) go on. Steps never
// wait for SMTP: each email is queued in the step's transaction and sent by the worker's outbox relay,
// which retries a refused send (OUTBOX_MAX_RETRY_SECONDS=10 here) and sends each one once. Then the
// local Temporal SIGKILLed mid-step, on the same system (the other file's faults run meanwhile).
import { caseTrail, checkCalls, checkMail, checkNoDoubles, compact, during, faultRepair, holdCase, seedCompany, sparePartLoan, writeFaultTable, type Company, type FaultRow, type Loan } from './scenarios';
import { pause, startFaultStack, type FaultStack } from './stack';

let stack: FaultStack;
let seeded: Company;
let control: Awaited<ReturnType<typeof caseTrail>>;
const rows: FaultRow[] = [];
const began = Date.now();
const OUTAGE_MS = 120_000;

let smtpDownAt: number;

beforeAll(async () => {
  stack = await startFaultStack('mail');
  // SMTP is down from here: the capture process is not running.
  smtpDownAt = Date.now();
  await stack.startTemporal();
  await Promise.all([stack.startWorker(), stack.startApi()]);
  seeded = await seedCompany(stack);
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

afterEach(() => {
  expect(stack.crashes).toEqual([]);
});

/** The loan went all the way and left exactly the control loan's audit entries, emails and invoice lines. */
async function expectLikeControl(loan: Loan): Promise<void> {
  expect(await loan.status()).toBe('returned');
  expect(await caseTrail(stack, loan.number)).toEqual(control);
}

/** The slowest call among those made since `from` (index into stack.calls). */
const slowestSince = (from: number) => Math.max(...stack.calls.slice(from).map((call) => call.ms));

test('SMTP down for 2 minutes while a loan goes all the way and a fault repair waits for its signature', async () => {
  const firstCall = stack.calls.length;
  const loan = sparePartLoan(stack, seeded, 'SN-SMTP-DOWN');
  await loan.wholeLoan();
  const repair = faultRepair(stack, seeded, 'FR-SMTP-DOWN');
  await repair.register();
  await repair.solveRemotely();
  await repair.writeReport();
  // Every step was taken with SMTP unreachable: none sends mail itself.
  const stepsSlowest = slowestSince(firstCall);
  expect(stack.mails).toHaveLength(0);
  await pause(OUTAGE_MS - (Date.now() - smtpDownAt));
  await stack.startSmtp();
  const upAt = Date.now();
  const mail = await checkMail(stack, 60_000);
  const deliveredAfterMs = Date.now() - upAt;
  await repair.sign();
  await checkMail(stack);
  // The loan every faulted one must match, taken with every part up.
  const controlLoan = sparePartLoan(stack, seeded, 'SN-CONTROL');
  await controlLoan.wholeLoan();
  control = await caseTrail(stack, controlLoan.number);
  expect(control.audit).toContain('spare_part.returned');
  await checkMail(stack);
  await expectLikeControl(loan);
  await checkNoDoubles(stack);
  rows.push({
    fault: 'SMTP down 2 min',
    process: 'spare part; fault repair with sign-off',
    moment: 'from the system start (worker and API starting) through a whole loan and the fault repair to its report',
    outcome: `every step answered (slowest ${(stepsSlowest / 1000).toFixed(1)} s); ${mail.rows} emails queued meanwhile, all delivered ${(deliveredAfterMs / 1000).toFixed(0)} s after SMTP came back, each once; the customer then signed by the emailed link: follow_up; loan as the control loan`,
  });
}, 240_000);

test('SMTP slow, 10 s a message, while a loan and a fault repair go on', async () => {
  const firstCall = stack.calls.length;
  const mailsBefore = stack.mails.length;
  stack.setSmtpDelay(10_000);
  const started = Date.now();
  const loan = sparePartLoan(stack, seeded, 'SN-SMTP-SLOW');
  await loan.wholeLoan();
  const repair = faultRepair(stack, seeded, 'FR-SMTP-SLOW');
  await repair.register();
  await repair.solveRemotely();
  await repair.writeReport();
  await repair.sign(90_000);
  // A step that waited for its mail would take 10 s or more.
  const stepsSlowest = slowestSince(firstCall);
  expect(stepsSlowest).toBeLessThan(8_000);
  const mail = await checkMail(stack, 90_000);
  const allDeliveredMs = Date.now() - started;
  stack.setSmtpDelay(0);
  await expectLikeControl(loan);
  await checkNoDoubles(stack);
  rows.push({
    fault: 'SMTP slow (10 s a message)',
    process: 'spare part; fault repair with sign-off',
    moment: 'the whole loan and the fault repair to follow_up',
    outcome: `every step answered (slowest ${(stepsSlowest / 1000).toFixed(1)} s); ${mail.rows - mailsBefore} emails, each received once, the last ${(allDeliveredMs / 1000).toFixed(0)} s after the first step; loan as the control loan, repair in follow_up`,
  });
}, 240_000);

test('local Temporal SIGKILLed while the receipt step runs, started again on its journal 3 s later', async () => {
  const loan = sparePartLoan(stack, seeded, 'SN-TEMPORAL-KILL');
  await loan.apply();
  await loan.approve();
  await loan.ship();
  const other = sparePartLoan(stack, seeded, 'SN-TEMPORAL-READ');
  await other.apply();
  let readWhileDown: number | undefined;
  let stepWhileDown: string | undefined;
  const hold = await holdCase(stack, loan.number);
  const fault = during(async () => {
    await hold.blocked();
    await stack.killTemporal();
    await hold.release();
    // While it is down: reads answer from PostgreSQL; a step answers 503 with Retry-After within the limit.
    readWhileDown = (await stack.api('read while Temporal is down', 'GET', `/spare-parts/${other.number}`, seeded.tokens.service_desk))?.status;
    const step = await stack.api('step while Temporal is down', 'POST', `/spare-parts/${other.number}/approve`, seeded.tokens.manager, {});
    stepWhileDown = step ? `${step.status} ${step.body?.error?.code ?? ''}`.trim() : 'connection error';
    await pause(3_000);
    await stack.startTemporal();
  });
  const received = await loan.receive({ onSent: fault.onSent });
  await fault.done();
  expect(readWhileDown).toBe(200);
  expect(stepWhileDown).toMatch(/^(503 service_unavailable|200)$/);
  await loan.giveBack();
  await expectLikeControl(loan);
  await other.approve();
  await other.ship();
  await other.receive();
  await other.giveBack();
  await expectLikeControl(other);
  const mail = await checkMail(stack);
  await checkNoDoubles(stack);
  rows.push({
    fault: 'SIGKILL local Temporal',
    process: 'spare part',
    moment: 'in the receipt step, its transaction open; down 3 s',
    outcome: `receipt answered ${compact(received.seen)}; meanwhile a read answered ${readWhileDown} and a step ${stepWhileDown}; both loans returned as the control loan; ${mail.rows} emails, each received once`,
  });
});

test('every HTTP call of the file answered within 10 s, no 5xx but 503 with Retry-After; the fault table', () => {
  const calls = checkCalls(stack);
  writeFaultTable(
    'mail-and-temporal',
    rows,
    `SMTP and Temporal faults: ${rows.length} injected, ${rows.length} survived; ${calls.calls} HTTP calls, the slowest ${(calls.slowestMs / 1000).toFixed(1)} s, ${calls.unavailable} answered 503 with Retry-After (while Temporal was down); ${((Date.now() - began) / 1000).toFixed(0)} s.`,
  );
});
