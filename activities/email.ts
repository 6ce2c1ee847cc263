import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db, DbExecutor } from '../db';
import type { EmailOutboxTable, Locale } from '../db/schema';
import { renderEmail, type EmailContent } from './email-templates';
import type { Mailer } from './mailer';
import type { Clock } from './clock';

export type EmailRecipient = { contactId: string } | { email: string; locale: Locale };

export type SendEmailInput = EmailContent & {
  /** One key per intended email: a retried activity with the same key never sends a second mail. */
  idempotencyKey: string;
  to: EmailRecipient;
  caseId?: string | null;
};

export interface SendEmailResult {
  outboxId: string;
  messageId: string;
  /** False when an earlier attempt with the same key had already sent it. */
  sentNow: boolean;
}

/** How long an attempt that claimed an email may take to send it before another attempt may. */
export const SEND_LEASE_MS = 60_000;

/** An outbox email as the attempt that claimed it sends it. */
export type ClaimedEmail = Pick<Selectable<EmailOutboxTable>, 'idempotency_key' | 'recipient' | 'subject' | 'body_text'>;

async function resolveRecipient(db: DbExecutor, to: EmailRecipient): Promise<{ email: string; locale: Locale }> {
  if ('email' in to) return to;
  const contact = await db.selectFrom('contacts').select(['email', 'locale']).where('id', '=', to.contactId).executeTakeFirst();
  if (!contact) throw ApplicationFailure.nonRetryable(`no contact ${to.contactId}`, 'UnknownContact');
  return contact;
}

/** The outbox row of an email to a known address, rendered in the recipient's language. */
export function outboxRow(input: SendEmailInput & { to: { email: string; locale: Locale } }): Insertable<EmailOutboxTable> {
  const rendered = renderEmail(input, input.to.locale);
  return {
    idempotency_key: input.idempotencyKey,
    case_id: input.caseId ?? null,
    recipient: input.to.email,
    locale: input.to.locale,
    template: input.template,
    subject: rendered.subject,
    body_text: rendered.text,
    lease_until: null,
    provider_message_id: null,
    last_error: null,
    sent_at: null,
  };
}

/**
 * Inserts an outbox row already claimed by the caller until `leaseUntil`, unless a row with its key
 * exists. Returns the key of a row it inserted: that caller then sends it with `sendClaimed`, with
 * no claim of its own; a retry that finds the row goes through `deliver` instead.
 */
export function insertClaimedEmail(db: DbExecutor, row: Insertable<EmailOutboxTable>, leaseUntil: Date) {
  return db
    .insertInto('email_outbox')
    .values({ ...row, status: 'sending', attempts: 1, lease_until: leaseUntil })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('idempotency_key as inserted_key');
}

/**
 * Writes the email to the outbox under its idempotency key, rendered in the recipient's language.
 * Called inside the transaction that makes the change the email reports, so that the two commit
 * together; `deliver` sends it after the commit. A second call with the same key changes nothing.
 */
export async function enqueueEmail(db: DbExecutor, input: SendEmailInput): Promise<string> {
  const to = await resolveRecipient(db, input.to);
  await db
    .insertInto('email_outbox')
    .values(outboxRow({ ...input, to }))
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
  return input.idempotencyKey;
}

/** A Message-ID derived from the key, so that even a duplicate delivery after a crash is recognisable as the same mail. */
function messageIdFor(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}@fieldops>`;
}

export interface EmailOutbox {
  /** Sends an outbox email once: the attempt that claims the row talks to SMTP; a sent row is never sent again. */
  deliver(idempotencyKey: string): Promise<SendEmailResult>;
  /** Sends an email this attempt has claimed (see `insertClaimedEmail`) and records the outcome. */
  sendClaimed(email: ClaimedEmail): Promise<SendEmailResult>;
}

export function createEmailOutbox({ db, mailer, clock }: { db: Db; mailer: Mailer; clock: Clock }): EmailOutbox {
  async function sendClaimed(email: ClaimedEmail): Promise<SendEmailResult> {
    try {
      const info = await mailer.sendMail({
        to: email.recipient,
        subject: email.subject,
        text: email.body_text,
        messageId: messageIdFor(email.idempotency_key),
        headers: { 'X-Fieldops-Idempotency-Key': email.idempotency_key },
      });
      const { id } = await db
        .updateTable('email_outbox')
        .set({ status: 'sent', sent_at: clock.now(), provider_message_id: info.messageId, lease_until: null, last_error: null })
        .where('idempotency_key', '=', email.idempotency_key)
        .returning('id')
        .executeTakeFirstOrThrow();
      return { outboxId: id, messageId: info.messageId, sentNow: true };
    } catch (error) {
      await db
        .updateTable('email_outbox')
        .set({ status: 'failed', lease_until: null, last_error: error instanceof Error ? error.message : String(error) })
        .where('idempotency_key', '=', email.idempotency_key)
        .where('status', '=', 'sending')
        .execute();
      throw error;
    }
  }

  async function deliver(idempotencyKey: string): Promise<SendEmailResult> {
    const now = clock.now();
    // Claim the row: only one attempt at a time may talk to SMTP, and never once it is sent.
    const claimed = await db
      .updateTable('email_outbox')
      .set({ status: 'sending', attempts: sql`attempts + 1`, lease_until: new Date(now.getTime() + SEND_LEASE_MS) })
      .where('idempotency_key', '=', idempotencyKey)
      .where((eb) =>
        eb.or([eb('status', 'in', ['pending', 'failed']), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)])]),
      )
      .returning(['idempotency_key', 'recipient', 'subject', 'body_text'])
      .executeTakeFirst();
    if (claimed) return sendClaimed(claimed);

    const existing = await db
      .selectFrom('email_outbox')
      .select(['id', 'status', 'provider_message_id'])
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    if (!existing) throw ApplicationFailure.nonRetryable(`no outbox email ${idempotencyKey}`, 'UnknownEmail');
    if (existing.status === 'sent') {
      return { outboxId: existing.id, messageId: existing.provider_message_id ?? '', sentNow: false };
    }
    throw ApplicationFailure.retryable(`email ${idempotencyKey} is being sent by another attempt`, 'EmailSendInProgress');
  }

  return { deliver, sendClaimed };
}

export function createEmailActivities(deps: { db: Db; mailer: Mailer; clock: Clock }) {
  const outbox = createEmailOutbox(deps);
  /** Writes the email to the outbox (unless an earlier attempt did) and sends it once. */
  async function sendEmail(input: SendEmailInput): Promise<SendEmailResult> {
    return outbox.deliver(await enqueueEmail(deps.db, input));
  }
  return { sendEmail };
}
