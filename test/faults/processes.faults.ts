// Faults of the processes that hold state or run steps: the worker and the API killed mid-step,
// PostgreSQL stopped for 30 s while a step runs (the local Temporal's kill is in mail-and-temporal.faults.ts). One system of separate
// processes (stack.ts) serves every scenario in turn; after each, the checks of scenarios.ts.
import { caseTrail, checkCalls, checkMail, checkNoDoubles, compact, during, goodsClaim, holdCase, seedCompany, sparePartLoan, writeFaultTable, type Company, type FaultRow, type Loan } from './scenarios';
import { pause, query, startFaultStack, type FaultStack } from './stack';

let stack: FaultStack;
let seeded: Company;
let control: Awaited<ReturnType<typeof caseTrail>>;
const rows: FaultRow[] = [];
const began = Date.now();

beforeAll(async () => {
  stack = await startFaultStack('processes');
  await Promise.all([stack.startTemporal(), stack.startSmtp()]);
  await Promise.all([stack.startWorker(), stack.startApi()]);
  seeded = await seedCompany(stack);
  // The loan every faulted one must match: the same audit entries and emails, once each.
  const loan = sparePartLoan(stack, seeded, 'SN-CONTROL');
  await loan.wholeLoan();
  control = await caseTrail(stack, loan.number);
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

afterEach(() => {
  // Only the suite ends a process: none may die of a fault in another.
  expect(stack.crashes).toEqual([]);
});



/** The loan went all the way and left exactly the control loan's audit entries, emails and invoice lines. */
async function expectLikeControl(loan: Loan): Promise<void> {
  expect(await loan.status()).toBe('returned');
  expect(await caseTrail(stack, loan.number)).toEqual(control);
}

test('control loan: the whole spare-part process on the separate processes', () => {
  expect(control.audit).toContain('spare_part.returned');
  expect(control.emails.length).toBeGreaterThanOrEqual(4);
  expect(control.invoiceLines).toEqual([]);
});

test('worker SIGKILLed in the middle of the shipment step (its transaction open), started again 2 s later', async () => {
  const loan = sparePartLoan(stack, seeded, 'SN-WORKER-KILL');
  await loan.apply();
  await loan.approve();
  const hold = await holdCase(stack, loan.number);
  const fault = during(async () => {
    await hold.blocked();
    await stack.killWorker();
    await hold.release();
    await pause(2_000);
    await stack.startWorker();
  });
  const shipped = await loan.ship({ onSent: fault.onSent });
  await fault.done();
  await loan.receive();
  await loan.giveBack();
  await expectLikeControl(loan);
  const mail = await checkMail(stack);
  await checkNoDoubles(stack);
  rows.push({ fault: 'SIGKILL worker', process: 'spare part', moment: 'in the shipment step, its transaction open; restarted 2 s later', outcome: `shipment answered ${compact(shipped.seen)}; loan returned, audit and emails as the control loan; ${mail.rows} emails so far, each received once` });
});

test('worker SIGKILLed in the middle of a goods claim\'s credit (its transaction open), started again 2 s later', async () => {
  const claim = goodsClaim(stack, seeded, 'GC-WORKER-KILL');
  await claim.registerWithEvidence();
  const hold = await holdCase(stack, claim.number);
  const fault = during(async () => {
    await hold.blocked();
    await stack.killWorker();
    await hold.release();
    await pause(2_000);
    await stack.startWorker();
  });
  const credited = await claim.credit(45_000, { onSent: fault.onSent });
  await fault.done();
  expect(await claim.status()).toBe('credited');
  const lines = await query<{ source_ref: string; amount_cents: number }>(stack, 'select i.source_ref, i.amount_cents from invoice_lines i join cases c on c.id = i.case_id where c.number = $1', [claim.number]);
  expect(lines).toEqual([{ source_ref: `goods-claim/${claim.number}/credit`, amount_cents: -45_000 }]);
  const decisions = await query(stack, "select a.action from audit_events a join cases c on c.id = a.case_id where c.number = $1 and a.action like 'goods_claim.%credit%'", [claim.number]);
  expect(decisions).toHaveLength(1);
  const mail = await checkMail(stack);
  await checkNoDoubles(stack);
  rows.push({ fault: 'SIGKILL worker', process: 'goods claim', moment: 'in the credit step, its transaction open; restarted 2 s later', outcome: `credit answered ${compact(credited.seen)}; claim credited with exactly one invoice line (-450.00 CNY) and one decision entry; ${mail.rows} emails so far, each received once` });
});

test('API SIGKILLed while its approval Update waits on the step, started again at once', async () => {
  const loan = sparePartLoan(stack, seeded, 'SN-API-KILL');
  await loan.apply();
  const hold = await holdCase(stack, loan.number);
  const fault = during(async () => {
    await hold.blocked();
    await stack.killApi();
    await hold.release();
    await stack.startApi();
  });
  const approved = await loan.approve({ onSent: fault.onSent });
  await fault.done();
  expect(await loan.status()).toBe('approved');
  await loan.ship();
  await loan.receive();
  await loan.giveBack();
  await expectLikeControl(loan);
  const mail = await checkMail(stack);
  await checkNoDoubles(stack);
  rows.push({ fault: 'SIGKILL API', process: 'spare part', moment: 'during the approval Update, the step mid-transaction', outcome: `approval answered ${compact(approved.seen)}; loan returned, audit and emails as the control loan; ${mail.rows} emails so far, each received once` });
});

test('PostgreSQL stopped for 30 s while the return step runs', async () => {
  const loan = sparePartLoan(stack, seeded, 'SN-PG-STOP');
  await loan.apply();
  await loan.approve();
  await loan.ship();
  await loan.receive();
  const whileDown: string[] = [];
  const hold = await holdCase(stack, loan.number);
  const fault = during(async () => {
    await hold.blocked();
    await stack.stopPostgres();
    await hold.release();
    const stoppedAt = Date.now();
    for (const route of ['/spare-parts', `/spare-parts/${loan.number}`]) {
      const answer = await stack.api('read while PostgreSQL is down', 'GET', route, seeded.tokens.service_desk);
      whileDown.push(answer ? `${answer.status}${answer.headers['retry-after'] ? ` Retry-After ${answer.headers['retry-after']}` : ''}` : 'connection error');
    }
    await pause(30_000 - (Date.now() - stoppedAt));
    await stack.startPostgres();
  });
  const returned = await loan.giveBack({ onSent: fault.onSent });
  await fault.done();
  expect(whileDown).toEqual(['503 Retry-After 5', '503 Retry-After 5']);
  await expectLikeControl(loan);
  const mail = await checkMail(stack);
  await checkNoDoubles(stack);
  rows.push({
    fault: 'PostgreSQL stopped 30 s',
    process: 'spare part',
    moment: 'in the return step, its transaction open',
    outcome: `return answered ${compact(returned.seen)}; reads while down answered ${whileDown.join(', ')}; loan returned as the control loan; ${mail.rows} emails, each received once`,
  });
});

test('every HTTP call of the file answered within 10 s, no 5xx but 503 with Retry-After; the fault table', () => {
  const calls = checkCalls(stack);
  writeFaultTable(
    'processes',
    rows,
    `Worker, API and PostgreSQL faults: ${rows.length} injected, ${rows.length} survived; ${calls.calls} HTTP calls, the slowest ${(calls.slowestMs / 1000).toFixed(1)} s, ${calls.unavailable} answered 503 with Retry-After, ${calls.dropped} connections dropped by the killed API; ${((Date.now() - began) / 1000).toFixed(0)} s.`,
  );
});
