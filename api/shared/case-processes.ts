import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../../db';
import type { CaseKind } from '../../db/schema';
import { withinTemporalDeadline } from './temporal-calls';

/** What a process needs of its case row to (re)start its workflow. */
export interface CaseRowForStart {
  id: string;
  kind: CaseKind;
  number: string;
  status: string;
  workflow_id: string;
}

/**
 * How a case kind starts its workflow from its committed rows: registration and the recovery of
 * cases whose workflow never started (process-starts.ts) both start it this way, so both give the
 * workflow the same input. One per kind, listed in `CASE_PROCESSES` (process-starts.ts).
 */
export interface CaseProcess<Input = unknown> {
  kind: CaseKind;
  workflowType: string;
  /**
   * The case statuses in which the workflow may not have started yet (the status registration
   * commits). Only an open case in one of these whose workflow does not exist is started by the
   * recovery: a case that moved on lost a workflow that ran, and restarting it from its input would
   * not bring it back to where it was (the orphan check reports those for a person to decide).
   */
  startStatuses: readonly string[];
  /** The workflow's input, read from the case's rows; undefined when they are not there. */
  loadInput(db: Db, caseRow: CaseRowForStart): Promise<Input | undefined>;
}

export type StartOutcome = 'started' | 'already_started';

/** How long an API request waits for Temporal to accept a start before answering without it (the whole call stays under 10 s). */
export const START_TIMEOUT_MS = 5_000;

/**
 * Starts a case's workflow under its deterministic id, idempotently: a workflow that already exists
 * under that id (running, or closed: the id is never reused) is this case's, so that is
 * `already_started`, not an error. Case numbers are never handed out twice, so no other case's
 * workflow can hold the id.
 */
export async function startCaseWorkflow<Input>(
  client: Client,
  options: { taskQueue: string; workflowType: string; workflowId: string; input: Input; timeoutMs?: number },
): Promise<StartOutcome> {
  try {
    await withinTemporalDeadline(client, `start of ${options.workflowId}`, options.timeoutMs ?? START_TIMEOUT_MS, () =>
      client.workflow.start(options.workflowType, {
        workflowId: options.workflowId,
        taskQueue: options.taskQueue,
        // A closed run keeps its id: a retried or repeated start must never run a finished case again.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [options.input],
      }),
    );
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError && error.workflowId === options.workflowId) return 'already_started';
    throw error;
  }
}

/**
 * Starts a case's workflow right after registration committed its rows. A start that fails (Temporal
 * down or slow) is logged, not thrown: the case is recorded, and the worker's recovery round
 * (process-starts.ts) starts its workflow later with the same input.
 */
export async function startRegisteredCase<Input>(
  deps: { temporal: Client; taskQueue: string; logger?: Pick<Logger, 'warn'> | undefined },
  process: CaseProcess<Input>,
  start: { caseNumber: string; workflowId: string; input: Input },
): Promise<void> {
  try {
    await startCaseWorkflow(deps.temporal, { taskQueue: deps.taskQueue, workflowType: process.workflowType, workflowId: start.workflowId, input: start.input });
  } catch (error) {
    deps.logger?.warn({ err: error, caseNumber: start.caseNumber, workflowId: start.workflowId }, `${start.caseNumber}: registered, but its workflow did not start; the worker starts it later`);
  }
}
