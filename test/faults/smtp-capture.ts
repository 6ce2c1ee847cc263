// The fault suite's SMTP server, as an OS process of its own (forked with an IPC channel): it accepts
// every mail, and tells its parent each one (Message-ID, recipients, subject, text) before it answers
// 250, so that a mail the relay saw accepted is always in the parent's record. The parent makes it
// slow (`{ delayMs }`: each mail waits that long before its 250), and takes it down by SIGKILL and
// back by forking it again on the same port.
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CapturedMessage {
  type: 'mail';
  messageId: string | undefined;
  to: string[];
  subject: string;
  text: string;
}

export type CaptureControl = { delayMs: number };

const port = Number(process.argv[2]);
let delayMs = Number(process.argv[3] ?? 0);

function report(message: CapturedMessage | { type: 'listening'; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('smtp-capture runs with an IPC channel only'));
    process.send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

process.on('message', (control: CaptureControl) => {
  delayMs = control.delayMs;
});
// The parent went away: nothing is left to record the mail.
process.on('disconnect', () => process.exit(0));

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const waited = delayMs;
    simpleParser(stream)
      .then(async (parsed) => {
        if (waited > 0) await new Promise((resolve) => setTimeout(resolve, waited));
        await report({ type: 'mail', messageId: parsed.messageId, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), subject: parsed.subject ?? '', text: parsed.text ?? '' });
        callback();
      })
      .catch((error: Error) => callback(error));
  },
});
server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') console.warn('smtp-capture:', error.message);
});
server.listen(port, '127.0.0.1', () => {
  void report({ type: 'listening', port });
});
