import { systemClock } from '../../activities/clock';
import { createEmailActivities } from '../../activities/email';
import { createMailer } from '../../activities/mailer';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp';

describe('sendEmail activity', () => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let sendEmail: ReturnType<typeof createEmailActivities>['sendEmail'];
  let englishContactId: string;
  let chineseContactId: string;

  beforeAll(async () => {
    [database, smtp] = await Promise.all([createTestDatabase(), startTestSmtpServer()]);
    const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
    ({ sendEmail } = createEmailActivities({ db: database.db, mailer, clock: systemClock }));
    const customer = await database.db
      .insertInto('customers')
      .values({ code: 'C1', name: 'Acme', customer_class: 'A', sla_class: '7x24', billing_day: 5, spare_part_first: true, downgraded_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const contacts = await database.db
      .insertInto('contacts')
      .values([
        { customer_id: customer.id, name: 'Alice', email: 'alice@acme.test', locale: 'en', phone: null },
        { customer_id: customer.id, name: '王芳', email: 'wang@acme.test', locale: 'zh-CN', phone: null },
      ])
      .returning('id')
      .execute();
    englishContactId = contacts[0]!.id;
    chineseContactId = contacts[1]!.id;
  });

  afterAll(async () => {
    await Promise.all([database.drop(), smtp.close()]);
  });

  beforeEach(() => {
    smtp.received.length = 0;
  });

  const acknowledgement = { template: 'case_acknowledgement', params: { caseNumber: 'FR-2026-000001', customerName: 'Acme', summary: 'router down' } } as const;

  test('retried three times with the same idempotency key, it delivers exactly one mail, in the contact locale (en)', async () => {
    const input = { ...acknowledgement, idempotencyKey: 'ack/FR-2026-000001', to: { contactId: englishContactId } };
    const results = [await sendEmail(input), await sendEmail(input), await sendEmail(input)];

    expect(results.map((result) => result.sentNow)).toEqual([true, false, false]);
    expect(new Set(results.map((result) => result.outboxId)).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toMatchObject({ to: ['alice@acme.test'], subject: '[FR-2026-000001] We have registered your service request' });
    expect(smtp.received[0]!.text).toContain('Dear Acme');
    const outbox = await database.db.selectFrom('email_outbox').selectAll().where('idempotency_key', '=', input.idempotencyKey).execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ status: 'sent', attempts: 1, locale: 'en' });
  });

  test('a Chinese-speaking contact gets the zh-CN template', async () => {
    await sendEmail({ ...acknowledgement, idempotencyKey: 'ack/zh', to: { contactId: chineseContactId } });
    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toBe('[FR-2026-000001] 已受理您的服务请求');
    expect(mail!.text).toContain('我们已受理您的服务请求');
  });

  test('a temporary SMTP failure is recorded and the retry sends the same mail once', async () => {
    smtp.failNext(1);
    const input = { ...acknowledgement, idempotencyKey: 'ack/retry', to: { contactId: englishContactId } };
    await expect(sendEmail(input)).rejects.toThrow(/try again/i);
    const failed = await database.db.selectFrom('email_outbox').selectAll().where('idempotency_key', '=', 'ack/retry').executeTakeFirstOrThrow();
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.last_error).toMatch(/try again/i);

    expect((await sendEmail(input)).sentNow).toBe(true);
    expect((await sendEmail(input)).sentNow).toBe(false);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.headers.get('x-fieldops-idempotency-key')).toBe('ack/retry');
  });

  test('an unknown contact fails without retrying', async () => {
    await expect(
      sendEmail({ ...acknowledgement, idempotencyKey: 'ack/unknown', to: { contactId: '00000000-0000-0000-0000-000000000000' } }),
    ).rejects.toMatchObject({ type: 'UnknownContact', nonRetryable: true });
  });
});
