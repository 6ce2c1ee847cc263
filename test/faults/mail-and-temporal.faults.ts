// SMTP faults: the mail server down for 2 minutes, then slow (10 s a message), while spare-part loans
// and fault repairs (with the customer's signature through the emailed link) go on. Steps never wait
// for SMTP: each email is queued in the step's transaction and sent by the worker's outbox relay,
// which retries a refused send (OUTBOX_MAX_RETRY_SECONDS=10 here) and sends each one once.
import { caseTrail, checkCalls, checkMail, checkNoDoubles, faultRepair, seedCompany, sparePartLoan, writeFaultTable, type Company, type FaultRow } from './scenarios';
import { pause, startFaultStack, type FaultStack } from './stack';

let stack: FaultStack;
let seeded: Company;
let control: Awaited<ReturnType<typeof caseTrail>>;
const rows: FaultRow[] = [];
const began = Date.now();
const OUTAGE_MS = 120_000;

beforeAll(async () => {
  stack = await startFaultStack('smtp');
  await Promise.all([stack.startTemporal(), stack.startSmtp()]);
  await Promise.all([stack.startWorker(), stack.startApi()]);
  seeded = await seedCompany(stack);
  const loan = sparePartLoan(stack, seeded, 'SN-SMTP-CONTROL');
  await loan.wholeLoan();
  control = await caseTrail(stack, loan.number);
  await checkMail(stack);
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

afterEach(() => {
  expect(stack.crashes).toEqual([]);
});

/** The slowest call among those made since `from` (index into stack.calls). */
const slowestSince = (from: number) => Math.max(...stack.calls.slice(from).map((call) => call.ms));

test('SMTP down for 2 minutes while a loan goes all the way and a fault repair waits for its signature', async () => {
  const firstCall = stack.calls.length;
  const mailsBefore = stack.mails.length;
  await stack.killSmtp();
  const downAt = Date.now();
  const loan = sparePartLoan(stack, seeded, 'SN-SMTP-DOWN');
  await loan.wholeLoan();
  const repair = faultRepair(stack, seeded, 'FR-SMTP-DOWN');
  await repair.register();
  await repair.solveRemotely();
  await repair.writeReport();
  const stepsSlowest = slowestSince(firstCall);
  expect(stepsSlowest).toBeLessThan(3_000);
  expect(stack.mails.length).toBe(mailsBefore);
  await pause(OUTAGE_MS - (Date.now() - downAt));
  await stack.startSmtp();
  const upAt = Date.now();
  const mail = await checkMail(stack, 60_000);
  const deliveredAfterMs = Date.now() - upAt;
  await repair.sign();
  await checkMail(stack);
  expect(await loan.status()).toBe('returned');
  expect(await caseTrail(stack, loan.number)).toEqual(control);
  await checkNoDoubles(stack);
  const queued = mail.rows - mailsBefore;
  rows.push({
    fault: 'SMTP down 2 min',
    process: 'spare part; fault repair with sign-off',
    moment: 'from the application to the return, and the fault repair to its report',
    outcome: `every step answered (slowest ${(stepsSlowest / 1000).toFixed(1)} s); ${queued} emails queued meanwhile, all delivered ${(deliveredAfterMs / 1000).toFixed(0)} s after SMTP came back, each once; the customer signed by the emailed link: follow_up; loan as the control loan`,
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
  const stepsSlowest = slowestSince(firstCall);
  expect(stepsSlowest).toBeLessThan(3_000);
  const mail = await checkMail(stack, 90_000);
  const allDeliveredMs = Date.now() - started;
  stack.setSmtpDelay(0);
  expect(await caseTrail(stack, loan.number)).toEqual(control);
  await checkNoDoubles(stack);
  rows.push({
    fault: 'SMTP slow (10 s a message)',
    process: 'spare part; fault repair with sign-off',
    moment: 'the whole loan and the fault repair to follow_up',
    outcome: `every step answered (slowest ${(stepsSlowest / 1000).toFixed(1)} s); ${mail.rows - mailsBefore} emails, each received once, the last ${(allDeliveredMs / 1000).toFixed(0)} s after the first step; loan as the control loan, repair in follow_up`,
  });
}, 240_000);

test('every HTTP call of the file answered within 10 s, no 5xx; the fault table', () => {
  const calls = checkCalls(stack);
  expect(calls.unavailable).toBe(0);
  writeFaultTable(
    'smtp',
    rows,
    `SMTP faults: ${rows.length} injected, ${rows.length} survived; ${calls.calls} HTTP calls, the slowest ${(calls.slowestMs / 1000).toFixed(1)} s, none 5xx; ${((Date.now() - began) / 1000).toFixed(0)} s.`,
  );
});
