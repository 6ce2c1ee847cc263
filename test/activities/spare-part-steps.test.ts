import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createActivities, type Activities } from '../../activities';
import { systemClock } from '../../activities/shared/clock';
import { createEmailOutbox } from '../../activities/shared/email';
import { createMailer, type Mailer } from '../../activities/shared/mailer';
import { createCalendarProvider } from '../../db/repositories/calendar';
import { BUSINESS_RULE_VIOLATION } from '../../workflows/shared/definitions';
import { type SparePartStatus } from '../../workflows/spare-part/definitions';
import { testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { createContact, createCustomer, createDevice, createProduct } from '../support/fixtures';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp';

// The spare-part steps called directly, as a retried or concurrent activity attempt would call them.
describe('spare-part steps: one transaction each, safe to retry, serialized per customer where the downgrade is at stake; emails left to the outbox relay', () => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let mailer: Mailer;
  let activities: Activities;
  let productId: string;

  beforeAll(async () => {
    [database, smtp] = await Promise.all([createTestDatabase(), startTestSmtpServer()]);
    mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
    activities = createActivities({ db: database.db, mailer, clock: systemClock, links: testSignedLinks(), calendar: createCalendarProvider(database.db), logger: pino({ level: 'silent' }) });
    ({ id: productId } = await createProduct(database.db, { code: 'LC-10G', name: 'Line card', list_price_cents: 880_000 }));
    await database.db.insertInto('users').values({ name: 'Manager', email: 'manager@fieldops.test', role: 'manager', token_hash: 'x'.repeat(64), disabled_at: null }).execute();
  });

  afterAll(async () => {
    mailer.close();
    await Promise.all([database.drop(), smtp.close()]);
  });

  beforeEach(() => {
    smtp.received.length = 0;
  });

  async function newCustomer(downgraded = false): Promise<{ customerId: string; contactId: string }> {
    const customer = await createCustomer(database.db, { service_downgrade: downgraded ? 'return_for_repair' : 'none', downgraded_at: downgraded ? new Date() : null });
    const contact = await createContact(database.db, customer.id);
    return { customerId: customer.id, contactId: contact.id };
  }

  /** A loan row in the given status, as earlier steps would have left it. */
  async function newLoan(owner: { customerId: string; contactId: string }, status: SparePartStatus): Promise<{ caseId: string; loanNumber: string; serial: string }> {
    const tag = randomBytes(4).toString('hex');
    const serial = `F-${tag}`;
    const loanNumber = `SP-2026-${String(parseInt(tag, 16) % 1_000_000).padStart(6, '0')}`;
    const device = await createDevice(database.db, { customerId: owner.customerId, productId, serial, warranty_end: '2027-06-30' });
    const at = new Date('2026-09-24T02:00:00Z');
    const kase = await database.db
      .insertInto('cases')
      .values({ kind: 'spare_part', number: loanNumber, status, customer_id: owner.customerId, device_id: device.id, workflow_id: `spare-part/${loanNumber}`, created_at: at, updated_at: at, closed_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('spare_part_loans')
      .values({
        case_id: kase.id,
        loan_number: loanNumber,
        customer_id: owner.customerId,
        contact_id: owner.contactId,
        failed_device_id: device.id,
        related_case_id: null,
        fault_description: 'line card dead',
        delivery_address: '88 Century Ave',
        status,
        applied_by: 'desk',
        applied_by_role: 'service_desk',
        applied_at: at,
        return_due_date: '2026-10-22',
        return_due_at: new Date('2026-10-22T15:59:59Z'),
        overdue_at: status === 'overdue' ? new Date('2026-10-22T15:59:59Z') : null,
      })
      .execute();
    return { caseId: kase.id, loanNumber, serial };
  }

  const auditKeys = async (caseId: string) =>
    (await database.db.selectFrom('audit_events').select('idempotency_key').where('case_id', '=', caseId).orderBy('id').execute()).map((row) => row.idempotency_key);
  const stamp = { actor: 'Ada', role: 'manager', at: '2026-09-24T03:00:00Z' };
  /** One round of the outbox relay, as the worker runs it after a step. */
  const deliverQueuedEmails = () => createEmailOutbox({ db: database.db, mailer, clock: systemClock }).deliverDue();
  const outboxOf = (caseId: string) => database.db.selectFrom('email_outbox').select(['status', 'attempts']).where('case_id', '=', caseId).execute();

  test('a step retried after it committed writes its audit entry once and queues its email once; the relay sends it once', async () => {
    const loan = await newLoan(await newCustomer(), 'pending_approval');
    const rejection = { caseId: loan.caseId, decision: 'rejected' as const, stamp: { ...stamp, reason: 'contract lapsed' } };

    await activities.recordSparePartDecision(rejection);
    await activities.recordSparePartDecision(rejection);
    expect(await outboxOf(loan.caseId)).toEqual([{ status: 'pending', attempts: 0 }]);
    expect(smtp.received).toHaveLength(0);

    await deliverQueuedEmails();
    await deliverQueuedEmails();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received.map((mail) => mail.subject)).toEqual([expect.stringContaining(loan.loanNumber)]);
    expect(await auditKeys(loan.caseId)).toEqual([`${loan.loanNumber}/decision`]);
    const outbox = await database.db.selectFrom('email_outbox').selectAll().where('case_id', '=', loan.caseId).execute();
    expect(outbox).toMatchObject([{ status: 'sent', attempts: 1 }]);
    const row = await database.db.selectFrom('spare_part_loans').select(['status', 'decision_comment']).where('case_id', '=', loan.caseId).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'rejected', decision_comment: 'contract lapsed' });
    const kase = await database.db.selectFrom('cases').select(['status', 'closed_at']).where('id', '=', loan.caseId).executeTakeFirstOrThrow();
    expect(kase.status).toBe('rejected');
    expect(kase.closed_at).not.toBeNull();
  });

  test('SMTP down: the step commits and answers without waiting for SMTP; the relay sends the email once SMTP is back', async () => {
    const loan = await newLoan(await newCustomer(), 'awaiting_return');
    const reminder = { caseId: loan.caseId, date: '2026-10-15', dueDate: '2026-10-22', workingDaysLeft: 5 };
    smtp.setDown(true);
    try {
      const started = Date.now();
      await activities.sendSparePartReminder(reminder);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await auditKeys(loan.caseId)).toEqual([`${loan.loanNumber}/reminder/2026-10-15`]);
      expect(await deliverQueuedEmails()).toMatchObject({ claimed: 1, failed: 1 });
      expect(await outboxOf(loan.caseId)).toEqual([{ status: 'failed', attempts: 1 }]);
      await activities.sendSparePartReminder(reminder);
    } finally {
      smtp.setDown(false);
    }
    await database.db.updateTable('email_outbox').set({ next_attempt_at: new Date() }).where('case_id', '=', loan.caseId).execute(); // its backoff is over
    await deliverQueuedEmails();
    await deliverQueuedEmails();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received).toHaveLength(1);
    expect(await outboxOf(loan.caseId)).toEqual([{ status: 'sent', attempts: 2 }]);
    expect(await auditKeys(loan.caseId)).toHaveLength(1);
  });

  test("a reminder skipped because it was no longer true is recorded once, under the key a sent reminder of that day would take, and queues no email", async () => {
    const loan = await newLoan(await newCustomer(), 'awaiting_return');
    await activities.recordSkippedSparePartReminder({ caseId: loan.caseId, date: '2026-10-15', workingDaysLeft: 5, stillTrueUntil: '2026-10-15T16:00:00.000Z', at: '2026-10-21T00:30:00.000Z' });
    await activities.recordSkippedSparePartReminder({ caseId: loan.caseId, date: '2026-10-15', workingDaysLeft: 5, stillTrueUntil: '2026-10-15T16:00:00.000Z', at: '2026-10-21T00:30:00.000Z' });

    const entries = await database.db.selectFrom('audit_events').select(['action', 'idempotency_key', 'occurred_at', 'data']).where('case_id', '=', loan.caseId).execute();
    expect(entries).toEqual([
      {
        action: 'spare_part.reminder_skipped',
        idempotency_key: `${loan.loanNumber}/reminder/2026-10-15`,
        occurred_at: new Date('2026-10-21T00:30:00.000Z'),
        data: { date: '2026-10-15', workingDaysLeft: 5, stillTrueUntil: '2026-10-15T16:00:00.000Z' },
      },
    ]);
    expect(await outboxOf(loan.caseId)).toEqual([]);
  });

  test('a shipment that breaks a rule writes nothing and sends nothing', async () => {
    const loan = await newLoan(await newCustomer(), 'approved');
    const shipment = { ...stamp, role: 'service_desk', replacementSerial: loan.serial, carrier: 'SF', trackingNumber: 'SF1', shippedAt: stamp.at };

    await expect(activities.recordSparePartShipment({ caseId: loan.caseId, shipment })).rejects.toMatchObject({ type: BUSINESS_RULE_VIOLATION, nonRetryable: true });

    expect(await auditKeys(loan.caseId)).toEqual([]);
    expect(await database.db.selectFrom('email_outbox').select('id').where('case_id', '=', loan.caseId).execute()).toEqual([]);
    expect((await database.db.selectFrom('spare_part_loans').select('status').where('case_id', '=', loan.caseId).executeTakeFirstOrThrow()).status).toBe('approved');
  });

  test('one loan going overdue while another of the same customer comes back late: the customer stays downgraded, whichever step runs first', async () => {
    for (let round = 0; round < 5; round++) {
      const owner = await newCustomer(true);
      const late = await newLoan(owner, 'overdue');
      const due = await newLoan(owner, 'awaiting_return');
      await database.db
        .insertInto('invoice_lines')
        .values({ customer_id: owner.customerId, case_id: late.caseId, billing_cycle: '2026-11', description: 'overdue', amount_cents: 880_000, source_ref: `spare-part/${late.loanNumber}/overdue`, issued_at: null })
        .execute();

      const [returned] = await Promise.all([
        activities.recordSparePartReturn({
          caseId: late.caseId,
          receipt: { ...stamp, role: 'service_desk', returnedSerial: late.serial, faultTagPresent: true, discrepancy: null, receivedAt: stamp.at },
        }),
        activities.markSparePartOverdue({ caseId: due.caseId, at: '2026-10-22T15:59:59Z' }),
      ]);

      const customer = await database.db.selectFrom('customers').select('service_downgrade').where('id', '=', owner.customerId).executeTakeFirstOrThrow();
      expect(customer.service_downgrade).toBe('return_for_repair');
      expect(returned).toMatchObject({ status: 'written_off', credited: true });
      const statuses = await database.db.selectFrom('spare_part_loans').select(['loan_number', 'status']).where('customer_id', '=', owner.customerId).orderBy('loan_number').execute();
      expect(Object.fromEntries(statuses.map((row) => [row.loan_number, row.status]))).toEqual({ [late.loanNumber]: 'written_off', [due.loanNumber]: 'overdue' });
    }
  });

  test('the last overdue loan written off by payment lifts the downgrade, and the billing is not repeated', async () => {
    const owner = await newCustomer(true);
    const loan = await newLoan(owner, 'overdue');
    const payment = { caseId: loan.caseId, payment: { ...stamp, role: 'billing', reference: 'PAY-1' } };

    expect(await activities.recordSparePartPayment(payment)).toEqual({ downgradeLifted: true });
    expect(await activities.recordSparePartPayment(payment)).toEqual({ downgradeLifted: false });

    const customer = await database.db.selectFrom('customers').select(['service_downgrade', 'downgraded_at']).where('id', '=', owner.customerId).executeTakeFirstOrThrow();
    expect(customer).toEqual({ service_downgrade: 'none', downgraded_at: null });
    expect(await auditKeys(loan.caseId)).toEqual([`${loan.loanNumber}/paid`]);
    await deliverQueuedEmails();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received.filter((mail) => mail.subject.includes(loan.loanNumber))).toHaveLength(1);
  });
});
