import { z } from 'zod';
import { ConfigError } from '../activities/shared/config';

/**
 * How much the worker keeps in memory and how many threads run its workflows: WORKER_MAX_CACHED_WORKFLOWS
 * and WORKER_THREADS (README, Configuration). A workflow evicted from the cache is replayed from its
 * history on its next task, so the cache trades memory for replays: 10,000 open cases do not need
 * 10,000 cached workflows, since most of them wait days for a timer or a person.
 */
export interface WorkerTuning {
  /** Workflows kept in the worker's cache (sticky); each costs memory in the workflow thread's V8 heap. */
  readonly maxCachedWorkflows: number;
  /** Threads that run workflow activations (each with its own V8 heap and context). */
  readonly workflowThreads: number;
}

export const DEFAULT_WORKER_TUNING: WorkerTuning = Object.freeze({ maxCachedWorkflows: 1000, workflowThreads: 1 });

const decimal = (min: number, max: number) => z.string().regex(/^\d+$/, 'must be a decimal integer').transform(Number).pipe(z.number().int().min(min).max(max));

const tuningSchema = z.object({
  WORKER_MAX_CACHED_WORKFLOWS: decimal(2, 100_000).default(DEFAULT_WORKER_TUNING.maxCachedWorkflows),
  WORKER_THREADS: decimal(1, 16).default(DEFAULT_WORKER_TUNING.workflowThreads),
});

/** Reads the two variables (empty counts as unset); throws ConfigError naming each bad one. */
export function workerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const parsed = tuningSchema.safeParse({
    WORKER_MAX_CACHED_WORKFLOWS: env.WORKER_MAX_CACHED_WORKFLOWS || undefined,
    WORKER_THREADS: env.WORKER_THREADS || undefined,
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  return Object.freeze({ maxCachedWorkflows: parsed.data.WORKER_MAX_CACHED_WORKFLOWS, workflowThreads: parsed.data.WORKER_THREADS });
}
