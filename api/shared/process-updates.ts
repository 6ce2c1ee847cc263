import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Clock } from '../../activities/shared/clock';
import type { ActorStamp } from '../../workflows/shared/definitions';
import type { Actor } from '../auth';
import { ApiError } from '../errors';
import { withinTemporalDeadline } from './temporal-calls';

/** Who takes a step through the API, in which role, and when (the API's clock). */
export function actorStamp(actor: Actor, clock: Clock): ActorStamp {
  return { actor: actor.name, role: actor.role, at: clock.now().toISOString() };
}

/**
 * Why a workflow refused an Update with NOT_FOUND: the server says the same for a run that ended
 * and for one that does not exist, and the user must be told which.
 */
async function notRunningError(temporal: Client, handle: WorkflowHandle): Promise<ApiError> {
  try {
    const description = await withinTemporalDeadline(temporal, `describe ${handle.workflowId}`, 2_000, () => handle.describe());
    return new ApiError(409, 'process_closed', 'This process has already finished and accepts no more changes', {
      workflowId: handle.workflowId,
      workflowStatus: description.status.name,
    });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return new ApiError(
      409,
      'process_not_running',
      `The workflow of this case (${handle.workflowId}) does not exist on the Temporal server, so the case cannot move; an administrator sees it at GET /admin/consistency`,
      { workflowId: handle.workflowId },
    );
  }
}

/**
 * How long a step's HTTP call waits for its Update. Past it (no worker running the workflow, Temporal
 * or PostgreSQL down while the step runs) the caller gets a 503 with Retry-After in under 10 s instead
 * of a call that hangs; an Update Temporal accepted still completes on its own, and the case shows it.
 */
export const UPDATE_DEADLINE_MS = 7_000;

/** The deadline in force: UPDATE_DEADLINE_MS, raised only by tests that hold a step longer on purpose. */
export const processUpdateDeadline = { ms: UPDATE_DEADLINE_MS };

/** Runs a process step (a validated Update) and tells a closed process apart from one that is not running at all. */
export async function executeProcessUpdate<Ret, Arg>(
  temporal: Client,
  workflowId: string,
  definition: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Ret> {
  const handle = temporal.workflow.getHandle(workflowId);
  try {
    return await withinTemporalDeadline(temporal, `update of ${workflowId}`, processUpdateDeadline.ms, () => handle.executeUpdate(definition, { args: [arg] }));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw await notRunningError(temporal, handle);
    throw error;
  }
}

/**
 * A step of a case through its workflow, as every process's routes take it: an unknown case is a 404
 * before anything is sent, then the Update runs, and the answer is the case as it is after it.
 */
export async function updateCase<Dto, Ret, Arg>(
  temporal: Client,
  read: (withTimeline: boolean) => Promise<Dto>,
  workflowId: string,
  definition: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Dto> {
  await read(false);
  await executeProcessUpdate(temporal, workflowId, definition, arg);
  return read(true);
}
