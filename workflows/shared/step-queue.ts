// The workflow side of the process kit: steps applied one at a time in order, and waits with a deadline.
import { condition } from '@temporalio/workflow';

/**
 * A case's steps, one at a time in the order they were queued: updates in the order they were
 * accepted, and the workflow's own reminder and deadline steps among them. A FIFO lock made of a
 * ticket counter and `condition`, the workflow-side equivalent of a mutex.
 */
export function createStepQueue() {
  let queued = 0;
  let finished = 0;
  return {
    /** No step is running or waiting. */
    get idle(): boolean {
      return queued === finished;
    },
    async run<T>(step: () => Promise<T>): Promise<T> {
      const ticket = queued++;
      await condition(() => finished === ticket);
      try {
        return await step();
      } finally {
        finished++;
      }
    },
  };
}

/** Waits for `done` or until `deadlineIso`; true when `done` came first. A deadline already past waits for nothing. */
export async function untilOr(done: () => boolean, deadlineIso: string): Promise<boolean> {
  const remainingMs = Date.parse(deadlineIso) - Date.now();
  if (remainingMs <= 0) return done();
  return condition(done, remainingMs);
}
