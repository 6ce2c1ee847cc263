import { condition, defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

export const benchGoSignal = defineSignal('go');

const { benchStep } = proxyActivities<{ benchStep(value: number): Promise<number> }>({ startToCloseTimeout: '1 minute' });

/** The benchmark's unit of work: an activity, a signal and a 15-day timer. */
export async function benchWorkflow(value: number): Promise<number> {
  let go = false;
  setHandler(benchGoSignal, () => {
    go = true;
  });
  const result = await benchStep(value);
  await condition(() => go);
  await sleep('15 days');
  return result;
}

/** The durability benchmark's unit: as benchWorkflow, with a 1-second timer (real-time mode). */
export async function shortBenchWorkflow(value: number): Promise<number> {
  let go = false;
  setHandler(benchGoSignal, () => {
    go = true;
  });
  const result = await benchStep(value);
  await condition(() => go);
  await sleep('1 second');
  return result;
}
