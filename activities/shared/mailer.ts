import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Transport } from 'nodemailer';
import type MailMessage from 'nodemailer/lib/mailer/mail-message';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

export type Mailer = Transporter<{ messageId: string }>;

export interface CapturedMailSummary {
  id: string;
  messageId: string;
  to: string[];
  subject: string;
  date: string;
}

/**
 * A nodemailer transport for development: every message is kept as `<dir>/<id>.eml` with a JSON
 * summary beside it, so it can be opened in any mail client and listed at GET /dev/mail.
 */
class MailCaptureTransport implements Transport<{ messageId: string }> {
  readonly name = 'fieldops-mail-capture';
  readonly version = '1';

  constructor(private readonly directory: string) {}

  send(mail: MailMessage<{ messageId: string }>, callback: (err: Error | null, info: { messageId: string }) => void): void {
    const chunks: Buffer[] = [];
    const stream = mail.message.createReadStream();
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error: Error) => callback(error, { messageId: '' }));
    // Written without blocking: under load (npm start) the synchronous writes held the one event loop
    // that the API, the worker and the local Temporal share. The summary follows its message.
    stream.on('end', () => {
      const failed = (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), { messageId: '' });
      let messageId: string;
      let id: string;
      let summary: CapturedMailSummary;
      try {
        messageId = mail.message.messageId();
        id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${messageId.replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`;
        summary = { id, messageId, to: mail.message.getEnvelope().to, subject: String(mail.data.subject ?? ''), date: new Date().toISOString() };
      } catch (error) {
        failed(error);
        return;
      }
      fs.promises
        .mkdir(this.directory, { recursive: true })
        .then(() => fs.promises.writeFile(path.join(this.directory, `${id}.eml`), Buffer.concat(chunks)))
        .then(() => fs.promises.writeFile(path.join(this.directory, `${id}.json`), JSON.stringify(summary)))
        .then(() => callback(null, { messageId }), failed);
    });
  }
}

export interface MailerConfig {
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly dataDir: string;
}

export function mailCaptureDirectory(config: Pick<MailerConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'mail');
}

/**
 * SMTP when SMTP_URL is set, over a pool of kept-open connections (one TCP and SMTP handshake per
 * connection, not per mail; `?pool=false` or `?maxConnections=N` in the URL override it); otherwise
 * the development capture under `<dataDir>/mail`. A send gives up within about 30 s (connection,
 * greeting, an idle socket), well inside the outbox lease (`DEFAULT_OUTBOX_DELIVERY.leaseMs`).
 */
export function createMailer(config: MailerConfig): Mailer {
  if (config.smtpUrl) {
    const smtp: Transporter<SMTPTransport.SentMessageInfo> = nodemailer.createTransport(
      { url: config.smtpUrl, pool: true, maxConnections: 5, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 },
      { from: config.mailFrom },
    );
    return smtp;
  }
  return nodemailer.createTransport(new MailCaptureTransport(mailCaptureDirectory(config)), { from: config.mailFrom });
}

export function listCapturedMail(directory: string): CapturedMailSummary[] {
  if (!fs.existsSync(directory)) return [];
  return fs
    .readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .reverse()
    .map((file) => JSON.parse(fs.readFileSync(path.join(directory, file), 'utf8')) as CapturedMailSummary);
}

export function readCapturedMail(directory: string, id: string): Buffer | undefined {
  if (!/^[A-Za-z0-9-]+$/.test(id)) return undefined;
  const file = path.join(directory, `${id}.eml`);
  return fs.existsSync(file) ? fs.readFileSync(file) : undefined;
}

/** Who the mails come from (MAIL_FROM), as a name and an address: the organiser of calendar invitations. */
export function senderOf(mailFrom: string): { name: string; email: string } | undefined {
  const [first] = addressparser(mailFrom, { flatten: true });
  return first?.address ? { name: first.name || first.address, email: first.address } : undefined;
}
