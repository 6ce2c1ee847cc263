import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

export const addSignal = defineSignal<[number]>('add');
export const finishSignal = defineSignal('finish');
export const totalQuery = defineQuery<number>('total');
export const failingQuery = defineQuery<number>('failing');

/** Sums `add` signals until `finish`. */
export async function accumulatorWorkflow(): Promise<number> {
  let total = 0;
  let finished = false;
  setHandler(addSignal, (value) => {
    total += value;
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  setHandler(totalQuery, () => total);
  setHandler(failingQuery, () => {
    throw new Error('this query always fails');
  });
  await condition(() => finished);
  return total;
}

export const approveUpdate = defineUpdate<string, [string]>('approve');
export const slowApproveUpdate = defineUpdate<string, [string]>('slowApprove');
export const releaseSignal = defineSignal('release');

/** Waits for an approval through an Update whose validator rejects an empty approver. */
export async function approvalWorkflow(): Promise<string> {
  let approvedBy: string | undefined;
  let released = false;
  setHandler(releaseSignal, () => {
    released = true;
  });
  setHandler(
    approveUpdate,
    (who) => {
      approvedBy = who;
      return `approved by ${who}`;
    },
    {
      validator: (who) => {
        if (!who) throw ApplicationFailure.create({ message: 'an approver is required', type: 'ValidationError' });
      },
    },
  );
  // Accepted at once, completes only after the `release` signal.
  setHandler(slowApproveUpdate, async (who) => {
    await condition(() => released);
    approvedBy = who;
    return `slowly approved by ${who}`;
  });
  await condition(() => approvedBy !== undefined);
  return approvedBy!;
}

const { signalWorkflow } = proxyLocalActivities<{ signalWorkflow(workflowId: string, value: number): Promise<void> }>({
  startToCloseTimeout: '10 seconds',
});

/**
 * Signals itself from a local activity, i.e. while its first workflow task is running; the
 * signal must reach the workflow after that task.
 */
export async function signalDuringTaskWorkflow(completeImmediately: boolean): Promise<number> {
  let total = 0;
  setHandler(addSignal, (value) => {
    total += value;
  });
  await signalWorkflow(workflowInfo().workflowId, 7);
  if (completeImmediately) return total;
  await condition(() => total > 0);
  return total;
}
