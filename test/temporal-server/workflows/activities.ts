import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';

export interface ActivityOutcome {
  result?: unknown;
  failure?: {
    message: string;
    retryState?: string;
    causeType?: string;
    causeMessage?: string;
  };
}

function describeFailure(error: unknown): ActivityOutcome['failure'] {
  if (error instanceof ActivityFailure) {
    const cause = error.cause;
    return {
      message: error.message,
      retryState: error.retryState,
      causeType: cause?.name === 'ApplicationFailure' ? (cause as ApplicationFailure).type ?? undefined : cause?.name,
      causeMessage: cause?.message,
    };
  }
  throw error;
}

/** Runs one activity by name with the given options and reports the result or the failure. */
export async function runActivity(name: string, args: unknown[], options: ActivityOptions): Promise<ActivityOutcome> {
  const activities = proxyActivities<Record<string, (...input: unknown[]) => Promise<unknown>>>(options);
  try {
    return { result: await activities[name]!(...args) };
  } catch (error) {
    return { failure: describeFailure(error) };
  }
}

/** Starts an activity, cancels it after `cancelAfter`, and reports how it ended. */
export async function cancelActivityAfter(name: string, cancelAfter: string, options: ActivityOptions): Promise<string> {
  const activities = proxyActivities<Record<string, (...input: unknown[]) => Promise<unknown>>>(options);
  const scope = new CancellationScope();
  const running = scope.run(() => activities[name]!());
  await sleep(cancelAfter);
  scope.cancel();
  try {
    await running;
    return 'completed';
  } catch (error) {
    if (isCancellation(error)) return 'cancelled';
    throw error;
  }
}

/** Runs one local activity by name. */
export async function runLocalActivity(name: string, args: unknown[], options: LocalActivityOptions): Promise<unknown> {
  const activities = proxyLocalActivities<Record<string, (...input: unknown[]) => Promise<unknown>>>(options);
  return await activities[name]!(...args);
}

/** Runs one activity while a timer of `timer` runs beside it; returns the activity's result once both are done. */
export async function activityBesideTimer(name: string, args: unknown[], options: ActivityOptions, timer: string): Promise<unknown> {
  const activities = proxyActivities<Record<string, (...input: unknown[]) => Promise<unknown>>>(options);
  const [result] = await Promise.all([activities[name]!(...args), sleep(timer)]);
  return result;
}
