import { ConfigError } from '../../activities/shared/config';
import { DEFAULT_WORKER_TUNING, workerTuning } from '../../worker/tuning';

// WORKER_MAX_CACHED_WORKFLOWS and WORKER_THREADS (README, Configuration): read once when the worker is
// created, validated like the rest of the configuration.

describe('worker tuning', () => {
  test('defaults: 1,000 cached workflows and one workflow thread; empty counts as unset', () => {
    expect(workerTuning({})).toEqual({ maxCachedWorkflows: 1000, workflowThreads: 1 });
    expect(workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '', WORKER_THREADS: '' })).toEqual(DEFAULT_WORKER_TUNING);
  });

  test('set values are taken as decimal integers', () => {
    expect(workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '250', WORKER_THREADS: '2' })).toEqual({ maxCachedWorkflows: 250, workflowThreads: 2 });
  });

  test('a bad value stops the worker with every bad variable named', () => {
    let thrown: unknown;
    try {
      workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '1', WORKER_THREADS: 'many' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).issues).toEqual([expect.stringMatching(/^WORKER_MAX_CACHED_WORKFLOWS: /), expect.stringMatching(/^WORKER_THREADS: /)]);
    expect(() => workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '0x10' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS: must be a decimal integer/);
  });
});
