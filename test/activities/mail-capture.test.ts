import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMailer, listCapturedMail, mailCaptureDirectory, readCapturedMail } from '../../activities/shared/mailer';

// The development mail capture (no SMTP_URL): each mail kept as <id>.eml with its JSON summary, written
// without blocking the event loop that npm start's API, worker and local Temporal share.

describe('development mail capture', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-mail-capture-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('a sent mail is listed with its summary and readable as its raw message, once per send', async () => {
    const mailer = createMailer({ smtpUrl: undefined, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir });
    const sent = await Promise.all(
      ['first', 'second'].map((word) => mailer.sendMail({ to: `${word}@customer.test`, subject: `Loan ${word}`, text: `Hello ${word}` })),
    );
    const directory = mailCaptureDirectory({ dataDir });
    const listed = listCapturedMail(directory);
    expect(listed.map((mail) => mail.subject).sort()).toEqual(['Loan first', 'Loan second']);
    for (const mail of listed) {
      expect(sent.map((info) => info.messageId)).toContain(mail.messageId);
      expect(mail.to).toEqual([`${mail.subject.split(' ')[1]}@customer.test`]);
      const raw = readCapturedMail(directory, mail.id)?.toString('utf8') ?? '';
      expect(raw).toContain(`Subject: ${mail.subject}`);
      expect(raw).toContain(`Hello ${mail.subject.split(' ')[1]}`);
    }
    mailer.close();
  });

  test('a directory that cannot be written fails the send instead of losing the mail', async () => {
    const blocked = path.join(dataDir, 'blocked');
    fs.writeFileSync(blocked, 'a file where the data directory should be');
    const mailer = createMailer({ smtpUrl: undefined, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: blocked });
    await expect(mailer.sendMail({ to: 'x@customer.test', subject: 'Lost?', text: 'no' })).rejects.toThrow(/EEXIST|ENOTDIR/);
    mailer.close();
  });
});
