import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import type { Db, DbExecutor } from '../db';
import type { Locale } from '../db/schema';
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

const SEND_LEASE_MS = 60_000;

async function resolveRecipient(db: DbExecutor, to: EmailRecipient): Promise<{ email: string; locale: Locale }> {
  if ('email' in to) return to;
  const contact = await db.selectFrom('contacts').select(['email', 'locale']).where('id', '=', to.contactId).executeTakeFirst();
  if (!contact) throw ApplicationFailure.nonRetryable(`no contact ${to.contactId}`, 'UnknownContact');
  return contact;
}

/**
 * Writes the email to the outbox under its idempotency key, rendered in the recipient's language.
 * Called inside the transaction that makes the change the email reports, so that the two commit
 * together; `deliverEmail` sends it after the commit. A second call with the same key changes nothing.
 */
export async function enqueueEmail(db: DbExecutor, input: SendEmailInput): Promise<string> {
  const recipient = await resolveRecipient(db, input.to);
  const rendered = renderEmail(input, recipient.locale);
  await db
    .insertInto('email_outbox')
    .values({
      idempotency_key: input.idempotencyKey,
      case_id: input.caseId ?? null,
      recipient: recipient.email,
      locale: recipient.locale,
      template: input.template,
      subject: rendered.subject,
      body_text: rendered.text,
      lease_until: null,
      provider_message_id: null,
      last_error: null,
      sent_at: null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
  return input.idempotencyKey;
}

/** A Message-ID derived from the key, so that even a duplicate delivery after a crash is recognisable as the same mail. */
function messageIdFor(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}@fieldops>`;
}

export type EmailDelivery = (idempotencyKey: string) => Promise<SendEmailResult>;

/** Sends an outbox email once: the attempt that claims the row talks to SMTP; a sent row is never sent again. */
export function createEmailDelivery({ db, mailer, clock }: { db: Db; mailer: Mailer; clock: Clock }): EmailDelivery {
  return async function deliverEmail(idempotencyKey) {
    const now = clock.now();
    // Claim the row: only one attempt at a time may talk to SMTP, and never once it is sent.
    const claimed = await db
      .updateTable('email_outbox')
      .set({ status: 'sending', attempts: sql`attempts + 1`, lease_until: new Date(now.getTime() + SEND_LEASE_MS) })
      .where('idempotency_key', '=', idempotencyKey)
      .where((eb) =>
        eb.or([eb('status', 'in', ['pending', 'failed']), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)])]),
      )
      .returningAll()
      .executeTakeFirst();

    if (!claimed) {
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

    try {
      const info = await mailer.sendMail({
        to: claimed.recipient,
        subject: claimed.subject,
        text: claimed.body_text,
        messageId: messageIdFor(claimed.idempotency_key),
        headers: { 'X-Fieldops-Idempotency-Key': claimed.idempotency_key },
      });
      await db
        .updateTable('email_outbox')
        .set({ status: 'sent', sent_at: clock.now(), provider_message_id: info.messageId, lease_until: null, last_error: null })
        .where('id', '=', claimed.id)
        .execute();
      return { outboxId: claimed.id, messageId: info.messageId, sentNow: true };
    } catch (error) {
      await db
        .updateTable('email_outbox')
        .set({ status: 'failed', lease_until: null, last_error: error instanceof Error ? error.message : String(error) })
        .where('id', '=', claimed.id)
        .execute();
      throw error;
    }
  };
}

export function createEmailActivities(deps: { db: Db; mailer: Mailer; clock: Clock }) {
  const deliverEmail = createEmailDelivery(deps);
  /** Writes the email to the outbox (unless an earlier attempt did) and sends it once. */
  async function sendEmail(input: SendEmailInput): Promise<SendEmailResult> {
    return deliverEmail(await enqueueEmail(deps.db, input));
  }
  return { sendEmail };
}
