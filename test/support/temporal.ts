import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';

/** The launcher of the project's own Temporal test server (same command line as Temporal's Java one). */
export const TEMPORAL_TEST_SERVER_PATH = path.resolve(__dirname, '..', '..', 'worker', 'local-temporal', 'engine', 'temporal-test-server');

/**
 * A time-skipping Temporal environment for a test file: the project's offline test server by
 * default, Temporal's official test server (downloaded) when TEMPORAL_TEST_SERVER=official.
 * Create one per file in beforeAll and `await env.teardown()` in afterAll; run workers with
 * `Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath, activities })`.
 */
export async function createTestEnv(options: { startTime?: string } = {}): Promise<TestWorkflowEnvironment> {
  if (process.env.TEMPORAL_TEST_SERVER === 'official') {
    // The official server always starts at the current time; tests pinned to a past date say so and skip.
    return TestWorkflowEnvironment.createTimeSkipping();
  }
  return TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_TEST_SERVER_PATH },
      extraArgs: options.startTime ? [`--start-time=${options.startTime}`] : [],
    },
  });
}

/** Whether createTestEnv can start the virtual clock at a chosen instant (only the project's own server can). */
export const canChooseStartTime = process.env.TEMPORAL_TEST_SERVER !== 'official';
