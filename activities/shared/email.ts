import { ApplicationFailure } from '@temporalio/common';
import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db, DbExecutor } from '../../db';
import type { EmailOutboxTable, Locale } from '../../db/schema';
import { renderEmail, type EmailContent } from './email-templates';
import type { Mailer } from './mailer';
import { renderCalendarInvite, type CalendarInvite } from './calendar-invite';
import type { Clock } from './clock';

export type EmailRecipient = { contactId: string } | { email: string; locale: Locale };

export type QueueEmailInput = EmailContent & {
  /** One key per intended email: queuing it again with the same key changes nothing and sends nothing more. */
  idempotencyKey: string;
  to: EmailRecipient;
  caseId?: string | null;
  /** An appointment to send with it as an iCalendar invitation. */
  calendarInvite?: CalendarInvite | null;
};

async function resolveRecipient(db: DbExecutor, to: EmailRecipient): Promise<{ email: string; locale: Locale }> {
  if ('email' in to) return to;
  const contact = await db.selectFrom('contacts').select(['email', 'locale']).where('id', '=', to.contactId).executeTakeFirst();
  if (!contact) throw ApplicationFailure.nonRetryable(`no contact ${to.contactId}`, 'UnknownContact');
  return contact;
}

/** The outbox row of an email to a known address, rendered in the recipient's language, waiting for the relay. */
export function outboxRow(input: QueueEmailInput & { to: { email: string; locale: Locale } }): Insertable<EmailOutboxTable> {
  const rendered = renderEmail(input, input.to.locale);
  return {
    idempotency_key: input.idempotencyKey,
    case_id: input.caseId ?? null,
    recipient: input.to.email,
    locale: input.to.locale,
    template: input.template,
    subject: rendered.subject,
    body_text: rendered.text,
    body_html: rendered.html,
    calendar_invite: input.calendarInvite ? renderCalendarInvite(input.calendarInvite) : null,
    lease_until: null,
    send_started_at: null,
    provider_message_id: null,
    last_error: null,
    sent_at: null,
  };
}

/** The insert of outbox rows, unless rows with their keys exist: run inside the transaction of the change they report. */
export function outboxInsert(db: DbExecutor, rows: Insertable<EmailOutboxTable>[]) {
  return db
    .insertInto('email_outbox')
    .values(rows)
    .onConflict((oc) => oc.column('idempotency_key').doNothing());
}

/**
 * Writes the email to the outbox under its idempotency key, rendered in the recipient's language.
 * Called inside the transaction that makes the change the email reports, so that the two commit
 * together; the outbox relay sends it after the commit. A second call with the same key changes nothing.
 */
export async function enqueueEmail(db: DbExecutor, input: QueueEmailInput): Promise<string> {
  const to = await resolveRecipient(db, input.to);
  await outboxInsert(db, [outboxRow({ ...input, to })]).execute();
  return input.idempotencyKey;
}

/**
 * The Message-ID of an outbox email, derived from its key: `<first 40 hex digits of sha256(key)@fieldops>`.
 * Computed by the database when a send is claimed, so that the row records the Message-ID the attempt
 * hands to SMTP before it does.
 */
const messageIdSql = sql<string>`'<' || left(encode(sha256(convert_to(idempotency_key, 'UTF8')), 'hex'), 40) || '@fieldops>'`;

/** How the relay delivers the outbox. */
export interface OutboxDeliveryOptions {
  /** How long a claimed row is held by its attempt; an outcome still unrecorded after it makes the row `unconfirmed`. */
  leaseMs: number;
  /** Rows claimed (and sent concurrently) per round. */
  batchSize: number;
  /** Wait before the retry after a row's first SMTP failure; it doubles with every further failure... */
  firstRetryDelayMs: number;
  /** ...up to this. */
  maxRetryDelayMs: number;
}

export const DEFAULT_OUTBOX_DELIVERY: OutboxDeliveryOptions = {
  leaseMs: 60_000,
  batchSize: 20,
  firstRetryDelayMs: 5_000,
  maxRetryDelayMs: 15 * 60_000,
};

/** The wait before the next attempt of a row whose SMTP send failed on attempt `attempts` (1 = its first). */
export function retryDelayMs(attempts: number, options: Pick<OutboxDeliveryOptions, 'firstRetryDelayMs' | 'maxRetryDelayMs'>): number {
  return Math.min(options.maxRetryDelayMs, options.firstRetryDelayMs * 2 ** Math.max(0, attempts - 1));
}

/** An outbox email as the attempt that claimed it sends it. */
export type ClaimedEmail = Pick<Selectable<EmailOutboxTable>, 'idempotency_key' | 'template' | 'recipient' | 'subject' | 'body_text' | 'body_html' | 'calendar_invite' | 'attempts'> & { message_id: string };

/** What became of one send: SMTP accepted it, or the SMTP send itself failed. */
type SendOutcome =
  | { accepted: true; email: ClaimedEmail; messageId: string; at: Date }
  | { accepted: false; email: ClaimedEmail; error: string; at: Date };

export interface DeliveryRound {
  /** Rows this round claimed and handed to SMTP. */
  claimed: number;
  /** Sends SMTP accepted (this round's, and earlier ones recorded only now). */
  sent: number;
  /** Which emails those were, for the log: key and template, never the recipient or the body. */
  sentEmails: { idempotencyKey: string; template: string }[];
  /** Sends SMTP refused or that could not reach SMTP; each is tried again after its backoff. */
  failed: number;
  /** Keys of rows whose send started in an attempt that never recorded its outcome (now `unconfirmed`). */
  unconfirmed: string[];
  /** Outcomes this process knows but could not record yet (database unavailable); recorded by a later round. */
  unrecorded: number;
  /** Error of the last outcome that could not be recorded, if any. */
  recordError?: string;
}

export interface EmailOutbox {
  /**
   * One round of delivery: records outcomes an earlier round could not, marks sends whose lease ran out
   * without an outcome `unconfirmed`, then claims up to `batchSize` due rows (FOR UPDATE SKIP LOCKED,
   * so several relays share the work), sends them and records each outcome.
   */
  deliverDue(): Promise<DeliveryRound>;
}

/**
 * Delivery of the outbox, at most once after SMTP accepted a mail: a row is marked `failed` (and tried
 * again later) only when the SMTP send itself failed. When SMTP accepted it but recording that failed,
 * the outcome is kept in memory and recorded by a later round, never sent again; when the process
 * died in between, the row's lease runs out and it becomes `unconfirmed`: SMTP may or may not have
 * accepted it, and it is not sent again unless a person, having looked for its Message-ID, sets it
 * back to `pending`. Losing such a mail is preferred to sending it twice.
 */
export function createEmailOutbox({ db, mailer, clock, options = DEFAULT_OUTBOX_DELIVERY }: { db: Db; mailer: Mailer; clock: Clock; options?: OutboxDeliveryOptions }): EmailOutbox {
  /** Outcomes known to this process and not yet in the database, by idempotency key. */
  const unrecorded = new Map<string, SendOutcome>();

  async function recordOutcome(outcome: SendOutcome): Promise<void> {
    const key = outcome.email.idempotency_key;
    if (outcome.accepted) {
      // Whatever the row says now (even `unconfirmed` after a lease ran out): SMTP has it.
      await db
        .updateTable('email_outbox')
        .set({ status: 'sent', sent_at: outcome.at, provider_message_id: outcome.messageId, lease_until: null, last_error: null })
        .where('idempotency_key', '=', key)
        .where('status', '!=', 'sent')
        .execute();
    } else {
      await db
        .updateTable('email_outbox')
        .set({
          status: 'failed',
          lease_until: null,
          last_error: outcome.error,
          next_attempt_at: new Date(outcome.at.getTime() + retryDelayMs(outcome.email.attempts, options)),
        })
        .where('idempotency_key', '=', key)
        .where('status', 'in', ['sending', 'unconfirmed'])
        .execute();
    }
  }

  /** Records the outcome, or keeps it for a later round when the database does not take it now. */
  async function settle(outcome: SendOutcome): Promise<string | undefined> {
    try {
      await recordOutcome(outcome);
      unrecorded.delete(outcome.email.idempotency_key);
      return undefined;
    } catch (error) {
      unrecorded.set(outcome.email.idempotency_key, outcome);
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Hands an email this attempt has claimed to SMTP; the caller records the outcome. */
  async function sendClaimed(email: ClaimedEmail): Promise<SendOutcome> {
    try {
      const info = await mailer.sendMail({
        to: email.recipient,
        subject: email.subject,
        text: email.body_text,
        // Rows queued before emails had an HTML part go out as text only.
        ...(email.body_html ? { html: email.body_html } : {}),
        ...(email.calendar_invite ? { icalEvent: { method: 'REQUEST', filename: 'invite.ics', content: email.calendar_invite } } : {}),
        messageId: email.message_id,
        headers: { 'X-Fieldops-Idempotency-Key': email.idempotency_key },
      });
      return { accepted: true, email, messageId: info.messageId, at: clock.now() };
    } catch (error) {
      return { accepted: false, email, error: error instanceof Error ? error.message : String(error), at: clock.now() };
    }
  }

  async function deliverDue(): Promise<DeliveryRound> {
    const round: DeliveryRound = { claimed: 0, sent: 0, sentEmails: [], failed: 0, unconfirmed: [], unrecorded: 0 };
    const count = (outcome: SendOutcome) => {
      if (!outcome.accepted) return round.failed++;
      round.sentEmails.push({ idempotencyKey: outcome.email.idempotency_key, template: outcome.email.template });
      return round.sent++;
    };

    for (const outcome of [...unrecorded.values()]) {
      const error = await settle(outcome);
      if (error) {
        round.unrecorded = unrecorded.size;
        round.recordError = error;
        return round; // The database is still away: claiming more would only add to what waits in memory.
      }
      count(outcome);
    }

    const now = clock.now();
    const abandoned = await db
      .updateTable('email_outbox')
      .set({ status: 'unconfirmed', lease_until: null, last_error: 'the attempt that started sending it never recorded the outcome: SMTP may have accepted it' })
      .where('status', '=', 'sending')
      .where('lease_until', '<', now)
      .returning('idempotency_key')
      .execute();
    round.unconfirmed = abandoned.map((row) => row.idempotency_key);

    const claimed = await db
      .updateTable('email_outbox')
      .set({ status: 'sending', attempts: sql`attempts + 1`, lease_until: new Date(now.getTime() + options.leaseMs), send_started_at: now, provider_message_id: messageIdSql })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('email_outbox')
          .select('id')
          // A new row is due at once (by this process's clock, not the database's); a failed one after its backoff.
          .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'failed'), eb('next_attempt_at', '<=', now)])]))
          .orderBy('next_attempt_at')
          .limit(options.batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .returning(['idempotency_key', 'template', 'recipient', 'subject', 'body_text', 'body_html', 'calendar_invite', 'attempts', messageIdSql.as('message_id')])
      .execute();
    round.claimed = claimed.length;

    await Promise.all(
      claimed.map(async (email) => {
        const outcome = await sendClaimed(email);
        const error = await settle(outcome);
        if (error) round.recordError = error;
        else count(outcome);
      }),
    );
    round.unrecorded = unrecorded.size;
    return round;
  }

  return { deliverDue };
}

export function createEmailActivities({ db }: { db: Db }) {
  return {
    /** Writes the email to the outbox (unless it is there already); the outbox relay sends it once. */
    async queueEmail(input: QueueEmailInput): Promise<{ idempotencyKey: string }> {
      return { idempotencyKey: await enqueueEmail(db, input) };
    },
  };
}
