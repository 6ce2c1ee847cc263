// Fast workflow tests: one of the production workflows on the time-skipping test server, its
// activities replaced by typed stubs ("typed activity stubs in fast workflow tests", as Temporal's
// samples-typescript do). No database, no SMTP: what a workflow decides, and when, in milliseconds.
//
//   let h: WorkflowHarness;
//   beforeAll(async () => { h = await startWorkflowHarness(); });
//   afterAll(() => h.close());
//   test('...', () =>
//     h.withWorker({ someActivity: async (input) => result }, async (worker) => {
//       const handle = await worker.start(someWorkflow, [input]);
//       await handle.executeUpdate(someUpdate, { args: [...] });
//       await sleepUntil(h.env, instant);                                  // probes.ts: virtual time
//       await eventually(() => worker.callsTo('someActivity'), (calls) => calls.length === 1);
//     }));
//
// Each withWorker has its own task queue and call log; the workflows it started are terminated at
// its end, so a timer left behind cannot hold the shared virtual clock for the next test.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId, WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDependencies } from '../../activities';
import { workflowBundle } from './process-harness';
import { createTestEnv } from './temporal';

export type ActivityName = Extract<keyof Activities, string>;
/** What the test gives in place of the real activities: typed as they are, any subset of them. */
export type ActivityStubs = Partial<Activities>;
/** The ApplicationFailure type of a call to an activity the test did not stub (not retried). */
export const NOT_STUBBED = 'ActivityNotStubbed';

/** Every activity name the production worker registers (the functions are built, never run: no database is touched). */
export const ACTIVITY_NAMES: readonly ActivityName[] = Object.keys(createActivities({} as ActivityDependencies)) as ActivityName[];

export interface ActivityCall {
  name: ActivityName;
  args: unknown[];
}

export interface StubbedWorker {
  readonly taskQueue: string;
  /** Every activity call the worker received, stubbed or not, in the order they came. */
  readonly calls: readonly ActivityCall[];
  /** The arguments of each call to `name`, in order. */
  callsTo<Name extends ActivityName>(name: Name): Parameters<Activities[Name]>[];
  /**
   * Starts the workflow on this worker's task queue under a fresh workflow id (unless one is given);
   * what is still running when the test ends is terminated.
   */
  start<W extends Workflow>(workflow: W, args: Parameters<W>, options?: { workflowId?: string }): Promise<WorkflowHandleWithFirstExecutionRunId<W>>;
}

export interface WorkflowHarness {
  /** The time-skipping environment: `env.client`, `env.sleep`, `env.currentTimeMs` (see sleepUntil in probes.ts). */
  readonly env: TestWorkflowEnvironment;
  /**
   * Runs `test` while a worker with the production workflow bundle and these activity stubs polls a
   * task queue of its own; the worker is shut down when `test` settles (Worker.runUntil). An
   * activity not in `stubs` fails with a non-retryable ApplicationFailure `not stubbed: <name>`.
   */
  withWorker<T>(stubs: ActivityStubs, test: (worker: StubbedWorker) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The stubs wrapped to record their calls, with every other activity name failing loudly. */
function recordingActivities(stubs: ActivityStubs, calls: ActivityCall[]): Record<ActivityName, (...args: unknown[]) => Promise<unknown>> {
  const given = stubs as Partial<Record<ActivityName, (...args: unknown[]) => unknown>>;
  const unknown = Object.keys(stubs).filter((name) => !(ACTIVITY_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`stubs for activities the worker does not have: ${unknown.join(', ')}`);
  const entries = ACTIVITY_NAMES.map((name) => {
    const stub = given[name];
    const recorded = async (...args: unknown[]): Promise<unknown> => {
      calls.push({ name, args });
      if (!stub) throw ApplicationFailure.nonRetryable(`not stubbed: ${name}`, NOT_STUBBED);
      return stub(...args);
    };
    return [name, recorded] as const;
  });
  return Object.fromEntries(entries) as Record<ActivityName, (...args: unknown[]) => Promise<unknown>>;
}

/**
 * A time-skipping test environment (createTestEnv) for one test file, with the production workflow
 * bundle built once; create it in beforeAll (`startTime` pins the virtual clock, only on the
 * project's own test server) and `close()` it in afterAll.
 */
export async function startWorkflowHarness(options: { startTime?: string } = {}): Promise<WorkflowHarness> {
  const [env, bundle] = await Promise.all([createTestEnv(options), workflowBundle()]);
  return {
    env,
    async withWorker(stubs, test) {
      const calls: ActivityCall[] = [];
      const taskQueue = `stubbed-${randomBytes(4).toString('hex')}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        workflowBundle: bundle,
        activities: recordingActivities(stubs, calls),
      });
      const started: WorkflowHandle[] = [];
      const stubbed: StubbedWorker = {
        taskQueue,
        calls,
        callsTo: <Name extends ActivityName>(name: Name) => calls.filter((call) => call.name === name).map((call) => call.args as Parameters<Activities[Name]>),
        start: async <W extends Workflow>(workflow: W, args: Parameters<W>, startOptions: { workflowId?: string } = {}) => {
          const workflowId = startOptions.workflowId ?? `${taskQueue}/${randomBytes(4).toString('hex')}`;
          // WorkflowStartOptions spells `args` as a conditional type TypeScript cannot match to Parameters<W> here.
          const handle = await env.client.workflow.start(workflow, { taskQueue, workflowId, args } as unknown as WorkflowStartOptions<W>);
          started.push(handle);
          return handle;
        },
      };
      return worker.runUntil(async () => {
        try {
          return await test(stubbed);
        } finally {
          // A workflow left waiting on a timer would hold the virtual clock for the next test: once its
          // timer fires, time cannot skip until a worker on this (gone) task queue runs the task.
          await Promise.all(started.map((handle) => handle.terminate('the test is over').catch(() => undefined)));
        }
      });
    },
    close: () => env.teardown(),
  };
}
