import type { Logger } from 'pino';
import type { Clock } from '../activities/shared/clock';
import { DEFAULT_OUTBOX_DELIVERY, createEmailOutbox, type OutboxDeliveryOptions } from '../activities/shared/email';
import type { Mailer } from '../activities/shared/mailer';
import type { Db } from '../db';

export interface OutboxRelayOptions extends OutboxDeliveryOptions {
  /** How often the relay looks for due rows when nothing woke it: rows the API wrote, retries after backoff. */
  pollIntervalMs: number;
}

export const DEFAULT_OUTBOX_RELAY: OutboxRelayOptions = { ...DEFAULT_OUTBOX_DELIVERY, pollIntervalMs: 1_000 };

export interface OutboxRelay {
  start(): void;
  /** Asks for a round at once, e.g. after a step of this process committed outbox rows. */
  wake(): void;
  /** Stops after the round in progress (its sends finish and are recorded). */
  stop(): Promise<void>;
}

type RelayLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/**
 * Delivers the email outbox from the worker process, independently of the steps that write it: every
 * row is sent once SMTP takes it, whichever process wrote it (a workflow step, the API), and an SMTP
 * outage holds no step, no HTTP request and no workflow history. Rounds run back to back while there
 * is a full batch to send, otherwise on `wake()` or every `pollIntervalMs`; each row waits out its
 * own backoff after an SMTP failure. Several workers' relays share the outbox (FOR UPDATE SKIP LOCKED).
 */
export function createOutboxRelay(deps: { db: Db; mailer: Mailer; clock: Clock; logger?: RelayLogger; options?: Partial<OutboxRelayOptions> }): OutboxRelay {
  const options: OutboxRelayOptions = { ...DEFAULT_OUTBOX_RELAY, ...deps.options };
  const outbox = createEmailOutbox({ db: deps.db, mailer: deps.mailer, clock: deps.clock, options });
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeRequested = false;
  let interruptWait: (() => void) | undefined;

  function waitForWakeOrPoll(): Promise<void> {
    if (wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, options.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        interruptWait = undefined;
        resolve();
      }
      interruptWait = done;
    });
  }

  async function runRounds(): Promise<void> {
    while (running) {
      wakeRequested = false;
      let batchFull = false;
      try {
        const round = await outbox.deliverDue();
        batchFull = round.claimed >= options.batchSize;
        for (const email of round.sentEmails) deps.logger?.info(email, 'email sent');
        if (round.unconfirmed.length > 0) {
          deps.logger?.warn({ keys: round.unconfirmed }, 'outbox: emails whose send started and never recorded an outcome are now unconfirmed; they are not sent again automatically');
        }
        if (round.recordError) {
          deps.logger?.error({ error: round.recordError, waiting: round.unrecorded }, 'outbox: could not record send outcomes; they are kept and recorded later, never sent again');
        }
        if (round.failed > 0) deps.logger?.warn({ failed: round.failed }, 'outbox: SMTP sends failed; each is tried again after its backoff');
      } catch (error) {
        deps.logger?.error({ err: error }, 'outbox: delivery round failed');
      }
      if (running && !batchFull) await waitForWakeOrPoll();
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = runRounds();
    },
    wake() {
      wakeRequested = true;
      interruptWait?.();
    },
    async stop() {
      running = false;
      interruptWait?.();
      await loop;
      loop = undefined;
    },
  };
}
