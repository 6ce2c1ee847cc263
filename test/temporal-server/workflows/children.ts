import {
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  startChild,
} from '@temporalio/workflow';
import { echoWorkflow, failingWorkflow, waitForeverWorkflow } from './lifecycle';
import { addSignal } from './messaging';

export async function parentOfEcho(childId: string, value: string): Promise<string> {
  return await executeChild(echoWorkflow, { workflowId: childId, args: [value] });
}

export async function parentOfFailingChild(childId: string): Promise<string> {
  try {
    await executeChild(failingWorkflow, { workflowId: childId, args: ['child broke'] });
    return 'no failure';
  } catch (error) {
    if (error instanceof ChildWorkflowFailure) return `${error.cause?.message}`;
    throw error;
  }
}

/** Starts a child that waits forever, then returns: the policy decides the child's fate. */
export async function parentLeavingChild(childId: string, policy: 'TERMINATE' | 'ABANDON' | 'REQUEST_CANCEL'): Promise<string> {
  const child = await startChild(waitForeverWorkflow, { workflowId: childId, parentClosePolicy: ParentClosePolicy[policy] });
  return child.firstExecutionRunId;
}

export async function parentOfDuplicateChild(childId: string): Promise<string> {
  try {
    await startChild(waitForeverWorkflow, { workflowId: childId });
    return 'started';
  } catch (error) {
    if ((error as Error).name === 'WorkflowExecutionAlreadyStartedError') return 'already started';
    throw error;
  }
}

export async function signalExternalWorkflow(targetId: string, value: number): Promise<string> {
  try {
    await getExternalWorkflowHandle(targetId).signal(addSignal, value);
    return 'signalled';
  } catch (error) {
    return `failed: ${(error as Error).name}`;
  }
}

export async function cancelExternalWorkflow(targetId: string): Promise<string> {
  try {
    await getExternalWorkflowHandle(targetId).cancel();
    return 'cancel requested';
  } catch (error) {
    return `failed: ${(error as Error).name}`;
  }
}

/** Starts a child, then cancels it; reports how the child ended. */
export async function parentCancellingChild(childId: string): Promise<string> {
  const scope = new CancellationScope();
  const child = await scope.run(() => startChild(waitForeverWorkflow, { workflowId: childId }));
  scope.cancel();
  try {
    await child.result();
    return 'completed';
  } catch (error) {
    return error instanceof ChildWorkflowFailure && isCancellation(error.cause) ? 'child cancelled' : `failed: ${(error as Error).message}`;
  }
}
