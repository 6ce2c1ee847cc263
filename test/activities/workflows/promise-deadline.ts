// A test-only workflow: it asks for a deadline once, as a process would, then waits to be told to finish.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { PromisedDeadline, createDeadlineActivities } from '../../../activities/shared/deadlines';

const { computeDeadline } = proxyActivities<ReturnType<typeof createDeadlineActivities>>({ startToCloseTimeout: '1 minute' });

export const finishSignal = defineSignal('finish');

export async function promiseDeadline(from: string, workingDays: number): Promise<PromisedDeadline> {
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  const promised = await computeDeadline({ from, workingDays });
  await condition(() => finished);
  return promised;
}
