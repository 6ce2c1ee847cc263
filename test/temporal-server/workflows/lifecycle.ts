import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';

export async function echoWorkflow(value: string): Promise<string> {
  return value;
}

/** Waits until cancelled or terminated. */
export async function waitForeverWorkflow(): Promise<void> {
  await condition(() => false);
}

export async function failingWorkflow(message: string): Promise<never> {
  throw ApplicationFailure.create({ message, type: 'BusinessRuleViolation', nonRetryable: true });
}

export async function continueAsNewCounter(count: number, stopAt: number): Promise<{ count: number; runId: string; continuedFrom: string | undefined }> {
  if (count < stopAt) await continueAsNew<typeof continueAsNewCounter>(count + 1, stopAt);
  return { count, runId: workflowInfo().runId, continuedFrom: workflowInfo().continuedFromExecutionRunId };
}

export async function sleepingWorkflow(duration: string): Promise<string> {
  await sleep(duration);
  return 'woke up';
}

/** Fails (retryably) until the workflow retry policy has started the given attempt. */
export async function succeedsOnAttempt(successfulAttempt: number): Promise<number> {
  const { attempt } = workflowInfo();
  if (attempt < successfulAttempt) throw ApplicationFailure.create({ message: `attempt ${attempt} failed` });
  return attempt;
}

export async function upsertingWorkflow(): Promise<void> {
  upsertSearchAttributes({ CustomKeywordField: ['upserted'] });
  upsertMemo({ approvedBy: 'ann' });
  await sleep('1 minute');
}

export async function patchedWorkflow(): Promise<string> {
  return patched('new-pricing') ? 'new pricing' : 'old pricing';
}

export const proceedSignal = defineSignal('proceed');

/** Two steps separated by a signal: lets a test swap workers between them. */
export async function twoStepWorkflow(): Promise<string[]> {
  const steps = ['first'];
  let proceed = false;
  setHandler(proceedSignal, () => {
    proceed = true;
  });
  await condition(() => proceed);
  await sleep('1 hour');
  steps.push('second');
  return steps;
}

/** The first workflow task throws a plain Error (a task failure, retried), later ones succeed. */
export async function failsFirstTaskWorkflow(): Promise<number> {
  const { attempt, historyLength } = workflowInfo();
  if (historyLength <= 3 && attempt === 1) throw new Error('transient bug in the first workflow task');
  return attempt;
}

export const stateQuery = defineQuery<string>('state');

/** Reports 'waiting' until a one-hour timer fires, then 'timer fired'; ends on `proceed`. */
export async function timerStateWorkflow(): Promise<number> {
  let state = 'waiting';
  let proceed = false;
  setHandler(stateQuery, () => state);
  setHandler(proceedSignal, () => {
    proceed = true;
  });
  await sleep('1 hour');
  state = 'timer fired';
  await condition(() => proceed);
  return Date.now();
}

/** Starts a long timer and cancels it; returns how the timer ended. */
export async function cancelledTimerWorkflow(): Promise<string> {
  const scope = new CancellationScope();
  const timer = scope.run(() => sleep('30 days'));
  await sleep('1 second');
  scope.cancel();
  try {
    await timer;
    return 'fired';
  } catch (error) {
    return isCancellation(error) ? 'cancelled' : 'failed';
  }
}

/** Workflow time (Date.now) before and after a timer. */
export async function workflowClockWorkflow(duration: string): Promise<{ before: number; after: number }> {
  const before = Date.now();
  await sleep(duration);
  return { before, after: Date.now() };
}
