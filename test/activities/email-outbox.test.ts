import { sql } from 'kysely';
import type { Clock } from '../../activities/shared/clock';
import { createEmailActivities, createEmailOutbox, retryDelayMs, type OutboxDeliveryOptions } from '../../activities/shared/email';
import { createMailer, type Mailer } from '../../activities/shared/mailer';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { createContact, createCustomer } from '../support/fixtures';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp';

/** A clock the test moves by hand, so that backoff and leases need no waiting. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.now();
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

const OPTIONS: OutboxDeliveryOptions = { leaseMs: 60_000, batchSize: 20, firstRetryDelayMs: 5_000, maxRetryDelayMs: 60_000 };

describe('email outbox: queued in the transaction of the change, delivered once by the relay', () => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let mailer: Mailer;
  let queueEmail: ReturnType<typeof createEmailActivities>['queueEmail'];
  let englishContactId: string;
  let chineseContactId: string;

  beforeAll(async () => {
    [database, smtp] = await Promise.all([createTestDatabase(), startTestSmtpServer()]);
    mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
    ({ queueEmail } = createEmailActivities({ db: database.db }));
    const customer = await createCustomer(database.db, { code: 'C1', name: 'Acme', customer_class: 'A', sla_class: '7x24', billing_day: 5 });
    englishContactId = (await createContact(database.db, customer.id, { name: 'Alice', email: 'alice@acme.test', locale: 'en' })).id;
    chineseContactId = (await createContact(database.db, customer.id, { name: '王芳', email: 'wang@acme.test', locale: 'zh-CN' })).id;
  });

  afterAll(async () => {
    mailer.close();
    await Promise.all([database.drop(), smtp.close()]);
  });

  beforeEach(async () => {
    smtp.received.length = 0;
    smtp.setDown(false);
    // Every test starts from an empty outbox: a round delivers whatever is due.
    await database.db.deleteFrom('email_outbox').execute();
  });

  const acknowledgement = { template: 'case_acknowledgement', params: { caseNumber: 'FR-2026-000001', customerName: 'Acme', summary: 'router down' } } as const;
  const outboxRow = (key: string) => database.db.selectFrom('email_outbox').selectAll().where('idempotency_key', '=', key).executeTakeFirstOrThrow();
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

  test('queued three times with the same idempotency key, it is one row and one mail, in the contact locale (en)', async () => {
    const input = { ...acknowledgement, idempotencyKey: 'ack/FR-2026-000001', to: { contactId: englishContactId } };
    await queueEmail(input);
    await queueEmail(input);
    await queueEmail(input);
    const outbox = createEmailOutbox({ db: database.db, mailer, clock: manualClock(), options: OPTIONS });

    expect(await outbox.deliverDue()).toMatchObject({ claimed: 1, sent: 1, failed: 0 });
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 0, sent: 0 });
    await settle();
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toMatchObject({ to: ['alice@acme.test'], subject: '[FR-2026-000001] We have registered your service request' });
    expect(smtp.received[0]!.text).toContain('Dear Acme');
    const row = await outboxRow(input.idempotencyKey);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, locale: 'en', provider_message_id: smtp.received[0]!.messageId });
  });

  test('an appointment goes with its mail as an iCalendar invitation (METHOD:REQUEST), kept with the row so a resend carries the same one', async () => {
    const invite = {
      uid: 'FR-2026-000001/visit@fieldops',
      start: '2026-12-10T01:30:00Z',
      end: '2026-12-10T03:30:00Z',
      summary: 'Engineer visit FR-2026-000001',
      description: 'Replace the line card',
      location: 'Pudong exchange, 88 Century Ave',
      sequence: 0,
      organizer: { name: 'fieldops', email: 'noreply@fieldops.test' },
    };
    await queueEmail({ ...acknowledgement, idempotencyKey: 'ack/invite', to: { contactId: englishContactId }, calendarInvite: invite });
    expect((await outboxRow('ack/invite')).calendar_invite).toContain('BEGIN:VCALENDAR');
    await createEmailOutbox({ db: database.db, mailer, clock: manualClock(), options: OPTIONS }).deliverDue();
    const [mail] = await smtp.waitFor(1);
    const calendar = (mail!.calendars ?? []).join('\n');
    for (const line of ['METHOD:REQUEST', 'UID:FR-2026-000001/visit@fieldops', 'DTSTART:20261210T013000Z', 'DTEND:20261210T033000Z', 'SUMMARY:Engineer visit FR-2026-000001', 'LOCATION:Pudong exchange\\, 88 Century Ave']) {
      expect(calendar).toContain(line);
    }
    expect(mail!.text).toContain('Dear Acme');
  });

  test('a Chinese-speaking contact gets the zh-CN template', async () => {
    await queueEmail({ ...acknowledgement, idempotencyKey: 'ack/zh', to: { contactId: chineseContactId } });
    await createEmailOutbox({ db: database.db, mailer, clock: manualClock(), options: OPTIONS }).deliverDue();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toBe('[FR-2026-000001] 已受理您的服务请求');
    expect(mail!.text).toContain('我们已受理您的服务请求');
  });

  test('an SMTP failure marks the row failed and retries it after an exponential backoff, sending it once', async () => {
    const clock = manualClock();
    const outbox = createEmailOutbox({ db: database.db, mailer, clock, options: OPTIONS });
    await queueEmail({ ...acknowledgement, idempotencyKey: 'ack/retry', to: { contactId: englishContactId } });
    smtp.setDown(true);

    expect(await outbox.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
    const failed = await outboxRow('ack/retry');
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.last_error).toMatch(/not available|try again/i);
    expect(new Date(failed.next_attempt_at).getTime()).toBe(clock.now().getTime() + 5_000);

    clock.advance(4_999);
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 0 });
    clock.advance(1);
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
    expect(new Date((await outboxRow('ack/retry')).next_attempt_at).getTime()).toBe(clock.now().getTime() + 10_000);

    smtp.setDown(false);
    clock.advance(10_000);
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 1, sent: 1 });
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 0 });
    await settle();
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.headers.get('x-fieldops-idempotency-key')).toBe('ack/retry');
    expect(await outboxRow('ack/retry')).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    expect([1, 2, 3, 4, 5, 6].map((attempts) => retryDelayMs(attempts, OPTIONS))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });

  test('SMTP accepted the mail but recording it failed: the row is not marked failed, the mail is not sent again, and the send is recorded once the database takes it', async () => {
    const outbox = createEmailOutbox({ db: database.db, mailer, clock: manualClock(), options: OPTIONS });
    await queueEmail({ ...acknowledgement, idempotencyKey: 'ack/unrecorded', to: { contactId: englishContactId } });
    await sql`create function refuse_marking_sent() returns trigger language plpgsql as $$
      begin raise exception 'the database refuses to record the send'; end $$`.execute(database.db);
    await sql`create trigger refuse_marking_sent before update on email_outbox for each row when (new.status = 'sent')
      execute function refuse_marking_sent()`.execute(database.db);
    try {
      const first = await outbox.deliverDue();
      expect(first).toMatchObject({ claimed: 1, sent: 0, failed: 0, unrecorded: 1 });
      expect(first.recordError).toMatch(/refuses to record/);
      expect(await outboxRow('ack/unrecorded')).toMatchObject({ status: 'sending', attempts: 1 });
      // Further rounds while the database still refuses: nothing is claimed or sent again.
      expect(await outbox.deliverDue()).toMatchObject({ claimed: 0, unrecorded: 1 });
    } finally {
      await sql`drop trigger refuse_marking_sent on email_outbox`.execute(database.db);
      await sql`drop function refuse_marking_sent()`.execute(database.db);
    }
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 0, sent: 1, unrecorded: 0 });
    expect(await outbox.deliverDue()).toMatchObject({ claimed: 0, sent: 0 });
    await settle();
    expect(smtp.received.map((mail) => mail.messageId)).toHaveLength(1);
    expect(await outboxRow('ack/unrecorded')).toMatchObject({ status: 'sent', attempts: 1, provider_message_id: smtp.received[0]!.messageId });
  });

  test('a process that died after handing a mail to SMTP: once the lease runs out the row is unconfirmed and never sent again on its own', async () => {
    const clock = manualClock();
    await queueEmail({ ...acknowledgement, idempotencyKey: 'ack/abandoned', to: { contactId: englishContactId } });
    // The claim of an attempt whose process then died (no outcome will ever come from it).
    await database.db
      .updateTable('email_outbox')
      .set({ status: 'sending', attempts: 1, send_started_at: clock.now(), lease_until: new Date(clock.now().getTime() + OPTIONS.leaseMs), provider_message_id: '<abandoned@fieldops>' })
      .where('idempotency_key', '=', 'ack/abandoned')
      .execute();
    const survivor = createEmailOutbox({ db: database.db, mailer, clock, options: OPTIONS });

    expect(await survivor.deliverDue()).toMatchObject({ claimed: 0, unconfirmed: [] });
    clock.advance(OPTIONS.leaseMs + 1);
    expect(await survivor.deliverDue()).toMatchObject({ claimed: 0, unconfirmed: ['ack/abandoned'] });
    clock.advance(24 * 3_600_000);
    expect(await survivor.deliverDue()).toMatchObject({ claimed: 0, unconfirmed: [] });
    await settle();
    expect(smtp.received).toHaveLength(0);
    const row = await outboxRow('ack/abandoned');
    expect(row).toMatchObject({ status: 'unconfirmed', attempts: 1, provider_message_id: '<abandoned@fieldops>' });
    expect(row.last_error).toMatch(/may have accepted/);
  });

  test('rounds are bounded batches, and two relays delivering at once send every row exactly once', async () => {
    for (let index = 0; index < 7; index++) {
      await queueEmail({ ...acknowledgement, idempotencyKey: `ack/batch/${index}`, to: { contactId: englishContactId } });
    }
    const options = { ...OPTIONS, batchSize: 3 };
    const relays = [createEmailOutbox({ db: database.db, mailer, clock: manualClock(), options }), createEmailOutbox({ db: database.db, mailer, clock: manualClock(), options })];

    const firstRounds = await Promise.all(relays.map((relay) => relay.deliverDue()));
    expect(firstRounds.every((round) => round.claimed <= 3)).toBe(true);
    while ((await Promise.all(relays.map((relay) => relay.deliverDue()))).some((round) => round.claimed > 0));
    await smtp.waitFor(7);
    await settle();
    expect(smtp.received).toHaveLength(7);
    expect(new Set(smtp.received.map((mail) => mail.messageId)).size).toBe(7);
  });

  test('an unknown contact fails without retrying', async () => {
    await expect(
      queueEmail({ ...acknowledgement, idempotencyKey: 'ack/unknown', to: { contactId: '00000000-0000-0000-0000-000000000000' } }),
    ).rejects.toMatchObject({ type: 'UnknownContact', nonRetryable: true });
  });
});
