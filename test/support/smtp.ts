import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
  messageId: string | undefined;
  headers: ParsedMail['headers'];
  /** The text/calendar parts (iCalendar invitations), as text. */
  calendars?: string[];
  /** Date.now() when the server accepted the mail (benchmarks measure lateness with it). */
  acceptedAt: number;
}

export interface TestSmtpServer {
  readonly url: string;
  readonly received: ReceivedMail[];
  /** Makes the next N deliveries fail with a temporary SMTP error. */
  failNext(count: number): void;
  /** While down, every new connection is refused with 421 and every mail on an open one with 451: an SMTP outage. */
  setDown(down: boolean): void;
  /** Connections and mails refused while down. */
  readonly refusedWhileDown: number;
  /** Resolves once at least `count` mails have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Reads only the raw header block (for benchmarks: parsing thousands of mails would dominate the measurement). */
async function headersOnly(stream: NodeJS.ReadableStream): Promise<Pick<ReceivedMail, 'subject' | 'text' | 'messageId' | 'headers'>> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('latin1');
  const headerBlock = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const headers = new Map<string, string>();
  for (const line of headerBlock.replace(/\r\n\s+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { subject: headers.get('subject') ?? '', text: '', messageId: headers.get('message-id'), headers: headers };
}

/**
 * A real SMTP server in the test process: mail is received over TCP and parsed with mailparser
 * (`headersOnly`: only the header block is kept, for benchmarks).
 */
export async function startTestSmtpServer(options: { headersOnly?: boolean } = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let failures = 0;
  let down = false;
  let refusedWhileDown = 0;
  const waiters = new Set<() => void>();
  const unavailable = (responseCode: number) => {
    refusedWhileDown += 1;
    return Object.assign(new Error('Service not available, try again later'), { responseCode });
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      callback(down ? unavailable(421) : undefined);
    },
    onData(stream, session, callback) {
      if (down) {
        stream.resume();
        stream.on('end', () => callback(unavailable(451)));
        return;
      }
      if (failures > 0) {
        failures -= 1;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('Temporary failure, try again'), { responseCode: 451 })));
        return;
      }
      const parse = options.headersOnly
        ? headersOnly(stream)
        : simpleParser(stream).then((parsed) => ({
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            messageId: parsed.messageId,
            headers: parsed.headers,
            calendars: parsed.attachments.filter((attachment) => attachment.contentType.startsWith('text/calendar')).map((attachment) => attachment.content.toString('utf8')),
          }));
      parse
        .then((parsed) => {
          received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), ...parsed, acceptedAt: Date.now() });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  // A client that dies mid-session (a SIGKILLed process with a pooled connection) resets its socket:
  // smtp-server reports that as an 'error' event, which would otherwise crash the test file.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') console.warn('test SMTP server:', error.message);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    failNext(count) {
      failures = count;
    },
    setDown(value) {
      down = value;
    },
    get refusedWhileDown() {
      return refusedWhileDown;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} mails, received ${received.length}`));
        }, timeoutMs);
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(received);
          }
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
