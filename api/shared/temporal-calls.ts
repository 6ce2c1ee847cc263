import type { Client } from '@temporalio/client';

/** Temporal did not answer in time (down, restarting, or a step that cannot run now): the API answers 503 with Retry-After. */
export class TemporalTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what}: Temporal did not answer within ${timeoutMs} ms`);
    this.name = 'TemporalTimeoutError';
  }
}

/**
 * A Temporal call of an HTTP request, bounded: the gRPC deadline ends its calls, and a timer ends the
 * wait even when the SDK's retry backoff (up to 5 s a retry) would run past the deadline, so that a
 * caller has an answer within `timeoutMs` whatever Temporal does.
 */
export async function withinTemporalDeadline<T>(client: Client, what: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TemporalTimeoutError(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([client.withDeadline(Date.now() + timeoutMs, call), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
