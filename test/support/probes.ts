// What tests wait for and look at: a poller, the mails the test SMTP server received, the virtual
// clock of a time-skipping Temporal environment, and the Authorization header of an API token.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReceivedMail, TestSmtpServer } from './smtp';

/** How often `eventually` probes. */
export const EVENTUALLY_INTERVAL_MS = 100;

function describeValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 1_000 ? `${text.slice(0, 1_000)}... (${text.length} characters)` : text;
}

/**
 * Probes every 100 ms (real time) until `accept` takes the value, and returns that value; after
 * `timeoutMs` it fails naming the timeout and the last value probed. An error the probe throws fails at once.
 */
export async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`eventually: condition not met within ${timeoutMs} ms; last value: ${describeValue(value)}`);
    await pause(EVENTUALLY_INTERVAL_MS);
  }
}

/** Waits `ms` of real time. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The mails received so far for `email` whose subject contains `subjectPart`, oldest first. */
export function mailsTo(smtp: Pick<TestSmtpServer, 'received'>, email: string, subjectPart: string): ReceivedMail[] {
  return smtp.received.filter((mail) => mail.to.includes(email) && mail.subject.includes(subjectPart));
}

/** The mails received so far, to anyone, whose subject contains `subjectPart`, oldest first. */
export function mailsAbout(smtp: Pick<TestSmtpServer, 'received'>, subjectPart: string): ReceivedMail[] {
  return smtp.received.filter((mail) => mail.subject.includes(subjectPart));
}

/** The path (`/links/<token>`) of the first signed link in a mail's text, as the API serves it. */
export function linkPathIn(mail: Pick<ReceivedMail, 'text'>): string | undefined {
  return /https?:\/\/[^/\s]+(\/links\/[\w.-]+)/.exec(mail.text)?.[1];
}

/**
 * Moves a time-skipping environment's virtual clock to `isoInstant` (nothing when it is there
 * already). Timers due on the way fire; the activities they start are not waited for: follow with
 * `eventually` on what they do.
 */
export async function sleepUntil(env: Pick<TestWorkflowEnvironment, 'currentTimeMs' | 'sleep'>, isoInstant: string): Promise<void> {
  const target = Date.parse(isoInstant);
  if (Number.isNaN(target)) throw new Error(`sleepUntil: not an ISO instant: ${isoInstant}`);
  const now = await env.currentTimeMs();
  if (target > now) await env.sleep(target - now);
}

/** The Authorization header of an API token, for supertest's `.set(...)`. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
