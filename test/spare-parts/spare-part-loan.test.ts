import fs from 'node:fs';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { sparePartWorkflowId, type SparePartLoanState } from '../../workflows/spare-part/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';
import { applyForSparePart } from '../support/spare-part';
import { canChooseStartTime } from '../support/temporal';

// The happy path is pinned to the real 2026 calendar: the virtual clock starts the day before the receipt.
const START_TIME = '2026-09-23T00:00:00Z';
// Saved from the current workflow code (SAVE_WORKFLOW_HISTORIES=1, see replay.test.ts).
const HAPPY_PATH_HISTORY = path.join(__dirname, 'histories', 'spare-part-happy-path-serialized-steps.binpb');

const LIST_PRICE_CENTS = 1_250_000;

describe('spare part first, end to end (real worker, test server with time skipping, PostgreSQL, SMTP)', () => {
  let h: ProcessHarness;
  let worker: { stop(): Promise<void> };
  let company: ServiceCompany<never>;
  let customerId: string;
  let contactId: string;
  const as = (role: 'manager' | 'service_desk' | 'billing' | 'engineer') => bearer(h.tokens[role]);
  const addDevice = (serial: string) => company.addDevice(serial);

  const apply = (serial: string) => applyForSparePart(h, company, serial, { faultDescription: 'line card dead, service degraded' });

  /** Applies, approves, ships and records receipt at `receivedAt`; returns the loan number. */
  async function loanAwaitingReturn(serial: string, receivedAt: string): Promise<string> {
    await addDevice(serial);
    const applied = await apply(serial);
    expect(applied.status).toBe(201);
    const number: string = applied.body.loanNumber;
    expect((await request(h.app).post(`/spare-parts/${number}/approve`).set(as('manager')).send({})).status).toBe(200);
    expect(
      (await request(h.app).post(`/spare-parts/${number}/shipment`).set(as('service_desk')).send({ replacementSerial: `R-${serial}`, carrier: 'SF Express', trackingNumber: `SF${serial}` })).status,
    ).toBe(200);
    const received = await request(h.app).post(`/spare-parts/${number}/receipt`).set(as('service_desk')).send({ receivedAt });
    expect(received.status).toBe(200);
    return number;
  }

  const invoiceLines = () => h.database.db.selectFrom('invoice_lines').selectAll().where('customer_id', '=', customerId).orderBy('created_at').execute();
  const customerRow = () => h.database.db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirstOrThrow();

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    worker = await h.startWorker();
    // The harness has made the users already.
    company = await seedServiceCompany(h.database.db, { product: { list_price_cents: LIST_PRICE_CENTS }, roles: [] });
    ({ customerId, contactId } = company);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  // Temporal's official test server cannot start in the past: there this case is skipped.
  (canChooseStartTime ? test : test.skip)('happy path: received 2026-09-24, due 2026-10-22 across National Day; reminders on 10-15, 10-21 and 10-22; returned on time, no invoice line', async () => {
    const number = await loanAwaitingReturn('SN-HAPPY', '2026-09-24T10:00:00+08:00');
    const loan = (await request(h.app).get(`/spare-parts/${number}`).set(as('engineer'))).body;
    expect(loan).toMatchObject({
      status: 'awaiting_return',
      returnDeadline: { dueDate: '2026-10-22', provisional: false, missingYears: [], reminderDates: ['2026-10-15', '2026-10-21', '2026-10-22'] },
    });
    expect(loan.returnDeadline.dueAt).toBe('2026-10-22T15:59:59.000Z');
    expect(loan.shipment).toMatchObject({ replacementSerial: 'R-SN-HAPPY', replacementWarrantyEnd: '2027-03-31' });
    await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', 'Return the failed part by 2026-10-22'), (mails) => mails.length === 1);

    const reminders = () => mailsTo(h.smtp, 'lilei@cmcc.test', 'Reminder').concat(mailsTo(h.smtp, 'lilei@cmcc.test', 'last day'));
    await sleepUntil(h.env, '2026-10-15T00:59:00Z');
    expect(reminders()).toHaveLength(0);
    await sleepUntil(h.env, '2026-10-15T01:00:01Z');
    await eventually(reminders, (mails) => mails.length === 1);
    expect(reminders()[0]!.subject).toContain('due in 5 working days');

    await sleepUntil(h.env, '2026-10-21T01:00:01Z');
    await eventually(reminders, (mails) => mails.length === 2);
    expect(reminders()[1]!.subject).toContain('due in 1 working day');
    await sleepUntil(h.env, '2026-10-22T01:00:01Z');
    await eventually(reminders, (mails) => mails.length === 3);
    expect(reminders()[2]!.subject).toContain('Today is the last day');
    await eventually(async () => (await request(h.app).get(`/spare-parts/${number}`).set(as('engineer'))).body.remindersSent, (sent) => sent.length === 3);

    const returned = await request(h.app)
      .post(`/spare-parts/${number}/return`)
      .set(as('service_desk'))
      .send({ returnedSerial: 'SN-HAPPY', faultTagPresent: true, receivedAt: '2026-10-22T14:00:00+08:00' });
    expect(returned.status).toBe(200);
    expect(returned.body).toMatchObject({ status: 'returned', remindersSent: ['2026-10-15', '2026-10-21', '2026-10-22'], invoiceLines: [] });
    expect(returned.body.timeline.map((event: { action: string }) => event.action)).toEqual([
      'spare_part.applied',
      'spare_part.approved',
      'spare_part.shipped',
      'spare_part.received',
      'spare_part.reminder_sent',
      'spare_part.reminder_sent',
      'spare_part.reminder_sent',
      'spare_part.returned',
    ]);

    const handle = h.env.client.workflow.getHandle(sparePartWorkflowId(number));
    const result: SparePartLoanState = await handle.result();
    expect(result.status).toBe('returned');
    expect(await invoiceLines()).toEqual([]);
    expect((await customerRow()).service_downgrade).toBe('none');
    const rma = await h.database.db.selectFrom('rma_repairs').selectAll().where('source_ref', '=', `${number}/returned-part`).execute();
    expect(rma).toHaveLength(1);
    const outbox = await eventually(
      () => h.database.db.selectFrom('email_outbox').select(['idempotency_key', 'status']).where('idempotency_key', 'like', `spare-part/${number}/%`).execute(),
      (rows) => rows.every((row) => row.status === 'sent'),
    );
    expect(new Set(outbox.map((row) => row.idempotency_key)).size).toBe(outbox.length);

    if (process.env.SAVE_WORKFLOW_HISTORIES === '1') {
      fs.mkdirSync(path.dirname(HAPPY_PATH_HISTORY), { recursive: true });
      fs.writeFileSync(HAPPY_PATH_HISTORY, temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish());
    }
  });

  test('a rejected application ends the loan with the reason emailed; approving it afterwards is a 409', async () => {
    await addDevice('SN-REJECT');
    const number: string = (await apply('SN-REJECT')).body.loanNumber;
    const rejected = await request(h.app).post(`/spare-parts/${number}/reject`).set(as('manager')).send({ reason: 'spare pool empty for this model' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', decision: { comment: 'spare pool empty for this model' } });
    await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Spare-part-first application not approved`), (mails) => mails.length === 1);
    expect((await h.env.client.workflow.getHandle(sparePartWorkflowId(number)).result()).status).toBe('rejected');
    const approve = await request(h.app).post(`/spare-parts/${number}/approve`).set(as('manager')).send({});
    expect(approve.status).toBe(409);
    // A second start for the same loan is refused, even though the first run has closed.
    const caseId = (await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body.caseId;
    await expect(
      h.env.client.workflow.start('sparePartLoanWorkflow', { workflowId: sparePartWorkflowId(number), taskQueue: h.taskQueue, workflowIdReusePolicy: 'REJECT_DUPLICATE', args: [{ caseId, loanNumber: number, failedSerial: 'SN-REJECT' }] }),
    ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
  });

  test('approving twice or shipping before approval is a 409 with the reason, and changes nothing', async () => {
    await addDevice('SN-TWICE');
    const number: string = (await apply('SN-TWICE')).body.loanNumber;
    const early = await request(h.app).post(`/spare-parts/${number}/shipment`).set(as('service_desk')).send({ replacementSerial: 'R-X', carrier: 'SF', trackingNumber: '1' });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'invalid_transition', message: expect.stringContaining('is waiting for approval') });
    expect((await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body).toMatchObject({ status: 'pending_approval', shipment: null });

    expect((await request(h.app).post(`/spare-parts/${number}/approve`).set(as('manager')).send({ comment: 'ok' })).status).toBe(200);
    const twice = await request(h.app).post(`/spare-parts/${number}/approve`).set(as('manager')).send({ comment: 'again' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain('is already approved');
    const loan = (await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body;
    expect(loan.decision.comment).toBe('ok');
    expect(loan.timeline.filter((event: { action: string }) => event.action === 'spare_part.approved')).toHaveLength(1);
    expect((await request(h.app).post(`/spare-parts/${number}/approve`).set(as('service_desk')).send({})).status).toBe(403);
  });

  test('a returned part whose serial does not match the failed device is refused with a 422 and the loan stays open', async () => {
    const now = new Date(await h.env.currentTimeMs()).toISOString();
    const number = await loanAwaitingReturn('SN-WRONG', now);
    const wrong = await request(h.app).post(`/spare-parts/${number}/return`).set(as('service_desk')).send({ returnedSerial: 'SN-OTHER', faultTagPresent: true });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error).toMatchObject({ code: 'business_rule_violated', details: { field: 'returnedSerial' } });
    expect(wrong.body.error.message).toContain('does not match the failed device SN-WRONG');
    const noTag = await request(h.app).post(`/spare-parts/${number}/return`).set(as('service_desk')).send({ returnedSerial: 'SN-WRONG', faultTagPresent: false });
    expect(noTag.status).toBe(422);
    expect((await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body.status).toBe('awaiting_return');
    const right = await request(h.app).post(`/spare-parts/${number}/return`).set(as('service_desk')).send({ returnedSerial: 'SN-WRONG', faultTagPresent: false, discrepancy: 'fault tag missing, serial verified' });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ status: 'returned', returned: { faultTagPresent: false, discrepancy: 'fault tag missing, serial verified' } });
  });

  test('overdue: one invoice line at list price in the next billing cycle, customer downgraded, new applications refused; a late return credits it and lifts the downgrade', async () => {
    const receivedAt = new Date(await h.env.currentTimeMs()).toISOString();
    const number = await loanAwaitingReturn('SN-LATE', receivedAt);
    const loan = (await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body;
    const dueAt: string = loan.returnDeadline.dueAt;

    // The worker goes away while the loan waits for its deadline; a day passes; a new worker (empty
    // cache, so it replays the history) takes over and finishes the loan. Time cannot skip past a
    // timer while no worker is there to run the task it creates, so the gap stays before the first reminder.
    await worker.stop();
    await h.env.sleep(86_400_000);
    worker = await h.startWorker();
    // Step to each timer: time skipping does not wait for the activities a timer starts.
    for (const [index, date] of (loan.returnDeadline.reminderDates as string[]).entries()) {
      await sleepUntil(h.env, `${date}T09:00:01+08:00`);
      await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}]`).filter((mail) => /Reminder|last day/.test(mail.subject)), (mails) => mails.length === index + 1);
    }
    await sleepUntil(h.env, new Date(Date.parse(dueAt) + 1_000).toISOString());
    const overdue = await eventually(
      async () => (await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body,
      (body) => body.status === 'overdue',
    );
    const dueDay = Number(loan.returnDeadline.dueDate.slice(8, 10));
    const [dueYear, dueMonth] = loan.returnDeadline.dueDate.split('-').map(Number) as [number, number];
    const cycleMonth = dueDay < 25 ? dueMonth : dueMonth + 1;
    const expectedCycle = cycleMonth > 12 ? `${dueYear + 1}-01` : `${dueYear}-${String(cycleMonth).padStart(2, '0')}`;
    expect(overdue.invoiceLines).toEqual([expect.objectContaining({ amountCents: LIST_PRICE_CENTS, billingCycle: expectedCycle, sourceRef: `spare-part/${number}/overdue` })]);
    expect((await customerRow()).service_downgrade).toBe('return_for_repair');
    await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Failed part overdue`), (mails) => mails.length === 1);
    await eventually(() => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}]`), (mails) => mails.length === 1);

    await addDevice('SN-NEXT');
    const refused = await apply('SN-NEXT');
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'customer_downgraded', details: { overdueLoans: [number] } });
    expect(refused.body.error.message).toContain(number);

    const late = await request(h.app).post(`/spare-parts/${number}/return`).set(as('service_desk')).send({ returnedSerial: 'SN-LATE', faultTagPresent: true });
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ status: 'written_off', writtenOff: { reason: 'late_return' } });
    const lines = await invoiceLines();
    expect(lines.map((line) => [line.amount_cents, line.source_ref])).toEqual([
      [LIST_PRICE_CENTS, `spare-part/${number}/overdue`],
      [-LIST_PRICE_CENTS, `spare-part/${number}/overdue/credit`],
    ]);
    expect((await customerRow()).service_downgrade).toBe('none');
    expect((await apply('SN-NEXT')).status).toBe(201);
    expect((await h.env.client.workflow.getHandle(sparePartWorkflowId(number)).result()).status).toBe('written_off');
    expect(mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Failed part overdue`)).toHaveLength(1);
  }, 120_000);

  test('the customer confirms receipt through the signed link in the shipping email, once', async () => {
    await addDevice('SN-LINK');
    const number: string = (await apply('SN-LINK')).body.loanNumber;
    await request(h.app).post(`/spare-parts/${number}/approve`).set(as('manager')).send({});
    await request(h.app).post(`/spare-parts/${number}/shipment`).set(as('service_desk')).send({ replacementSerial: 'R-SN-LINK', carrier: 'SF Express', trackingNumber: 'SF1' });
    const [shipping] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Your replacement part has shipped`), (mails) => mails.length === 1);
    const url = linkPathIn(shipping!);
    expect(url).toBeDefined();
    expect((await request(h.app).get(url!)).body).toMatchObject({ caseNumber: number, action: 'spare-part.confirm-receipt', used: false });
    const confirmed = await request(h.app).post(url!).send({ discrepancy: 'box slightly dented' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ loanNumber: number, status: 'awaiting_return' });
    expect((await request(h.app).post(url!).send({})).status).toBe(410);
    const loan = (await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body;
    expect(loan.receipt).toMatchObject({ discrepancy: 'box slightly dented', confirmedBy: 'customer contact (customer)' });
  });


  test('an SMTP outage during a shipment: the shipment is recorded once and its email arrives once, after the retries', async () => {
    await addDevice('SN-SMTP');
    const number: string = (await apply('SN-SMTP')).body.loanNumber;
    await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Spare-part`), (mails) => mails.length === 1);
    await request(h.app).post(`/spare-parts/${number}/approve`).set(as('manager')).send({});
    h.smtp.failNext(2);
    const shipped = await request(h.app).post(`/spare-parts/${number}/shipment`).set(as('service_desk')).send({ replacementSerial: 'R-SN-SMTP', carrier: 'SF Express', trackingNumber: 'SF2' });
    expect(shipped.status).toBe(200);
    expect(shipped.body.status).toBe('shipped');
    await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Your replacement part has shipped`), (mails) => mails.length === 1);
    // SMTP accepted it before the relay recorded it as sent: wait for that record.
    const outbox = await eventually(
      () => h.database.db.selectFrom('email_outbox').select(['status', 'attempts']).where('idempotency_key', '=', `spare-part/${number}/shipped`).execute(),
      (rows) => rows[0]?.status !== 'sending',
    );
    expect(outbox).toEqual([{ status: 'sent', attempts: 3 }]);
    const loan = (await request(h.app).get(`/spare-parts/${number}`).set(as('manager'))).body;
    expect(loan.timeline.filter((event: { action: string }) => event.action === 'spare_part.shipped')).toHaveLength(1);
    expect(await h.database.db.selectFrom('devices').select('serial').where('serial', '=', 'R-SN-SMTP').execute()).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}] Your replacement part has shipped`)).toHaveLength(1);
  });
  test('a customer contact applies through the single-use link the service desk emails', async () => {
    await addDevice('SN-SELF');
    const issued = await request(h.app).post('/spare-parts/application-links').set(as('service_desk')).send({ contactId });
    expect(issued.status).toBe(201);
    const [mail] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', 'Your spare-part-first application link'), (mails) => mails.length === 1);
    const url = linkPathIn(mail!);
    expect(url).toBeDefined();
    const missing = await request(h.app).post(url!).send({ faultDescription: 'dead', deliveryAddress: 'here' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ field: 'failedSerial' })]);
    const applied = await request(h.app).post(url!).send({ failedSerial: 'SN-SELF', faultDescription: 'power supply failed', deliveryAddress: '1 Bund Rd' });
    expect(applied.status).toBe(200);
    const loan = (await request(h.app).get(`/spare-parts/${applied.body.loanNumber}`).set(as('manager'))).body;
    expect(loan).toMatchObject({ status: 'pending_approval', failedSerial: 'SN-SELF', contactId, applied: { by: 'Li Lei', role: 'customer' } });
    expect((await request(h.app).post(url!).send({ failedSerial: 'SN-SELF', faultDescription: 'again', deliveryAddress: 'x' })).status).toBe(410);
    expect((await request(h.app).post(`/spare-parts/${applied.body.loanNumber}/reject`).set(as('manager')).send({ reason: 'test cleanup' })).status).toBe(200);
  });

  test('bad input names its field: unknown serial, missing reason, malformed loan number', async () => {
    const unknown = await apply('SN-DOES-NOT-EXIST');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([expect.objectContaining({ field: 'failedSerial' })]);
    const noReason = await request(h.app).post('/spare-parts/SP-2026-000001/reject').set(as('manager')).send({});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details).toEqual([expect.objectContaining({ field: 'reason' })]);
    const badNumber = await request(h.app).get('/spare-parts/42').set(as('manager'));
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.error.details).toEqual([expect.objectContaining({ in: 'path', field: 'loanNumber' })]);
  });
});
