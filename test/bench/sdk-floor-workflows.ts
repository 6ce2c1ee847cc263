import { proxyLocalActivities } from '@temporalio/workflow';

export const STEPS = 16;

const { noop } = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });

/** As many workflow activations as a spare-part loan, with no work in them: what the SDK alone costs. */
export async function emptySteps(): Promise<void> {
  for (let step = 0; step < STEPS; step++) await noop();
}
