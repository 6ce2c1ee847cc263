import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApiError } from '../errors';

/**
 * Why a workflow refused an Update with NOT_FOUND: the server says the same for a run that ended
 * and for one that does not exist, and the user must be told which.
 */
async function notRunningError(handle: WorkflowHandle): Promise<ApiError> {
  try {
    const description = await handle.describe();
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

/** Runs a process step (a validated Update) and tells a closed process apart from one that is not running at all. */
export async function executeProcessUpdate<Ret, Arg>(
  temporal: Client,
  workflowId: string,
  definition: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Ret> {
  const handle = temporal.workflow.getHandle(workflowId);
  try {
    return await handle.executeUpdate(definition, { args: [arg] });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw await notRunningError(handle);
    throw error;
  }
}
