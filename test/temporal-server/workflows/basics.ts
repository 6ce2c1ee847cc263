import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

export interface BasicActivities {
  greet(name: string): Promise<string>;
}

const { greet } = proxyActivities<BasicActivities>({ startToCloseTimeout: '10 seconds' });

export async function greetingWorkflow(name: string): Promise<string> {
  return await greet(name);
}

export async function longTimerWorkflow(days: number): Promise<string> {
  await sleep(`${days} days`);
  return 'timer fired';
}

export const addSignal = defineSignal<[number]>('add');
export const totalQuery = defineQuery<number>('total');
export const finishSignal = defineSignal('finish');

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
  await condition(() => finished);
  return total;
}

export const approveUpdate = defineUpdate<string, [string]>('approve');

export async function approvalWorkflow(): Promise<string> {
  let approvedBy: string | undefined;
  setHandler(
    approveUpdate,
    (who) => {
      approvedBy = who;
      return `approved by ${who}`;
    },
    {
      validator: (who) => {
        if (!who) throw new Error('approver required');
      },
    },
  );
  await condition(() => approvedBy !== undefined);
  return approvedBy!;
}
