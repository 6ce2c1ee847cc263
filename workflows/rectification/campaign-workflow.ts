import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../../activities';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import { documentChangedSignal, signOffWorkflowId, type SignOffState } from '../sign-off/definitions';
import { signOffWorkflow } from '../sign-off/workflow';
import { customerWorkflowId, rectificationCustomerProgressSignal, type RectificationCampaignCarried, type RectificationCampaignInput } from './definitions';
import { rectificationCustomerWorkflow } from './customer-workflow';

const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

/** What the rollout needs of the campaign, carried over a continue-as-new with the running customers. */
interface RolloutState extends RectificationCampaignCarried {
  solutionKind: 'software' | 'hardware';
  highRisk: boolean;
  /** Every customer has been claimed: no batch is left to start. */
  exhausted: boolean;
}

/**
 * A rectification campaign: its plan goes to management approval (the plan document's sign-off,
 * manager step); approved, its customers are started in batches (at most `batchSize` customer children
 * at once, the next as others finish), each a child workflow of its own that outlives this run. The
 * children report progress by signal; the counts live in the database, so this run holds only the
 * customers running and the batch number, and continues as new once its history passes
 * `historyLimit` events. Completes when every customer has finished (every device rectified or declined).
 */
export async function rectificationCampaignWorkflow(input: RectificationCampaignInput): Promise<{ rectified: number; declined: number }> {
  const { caseId, campaignNumber } = input;
  const now = () => new Date().toISOString();
  let plan: SignOffState | undefined;
  const finished = new Set<string>();

  setHandler(documentChangedSignal, (document) => {
    if (document.documentId === input.planDocumentId) plan = document;
  });
  setHandler(rectificationCustomerProgressSignal, (progress) => {
    if (progress.finished) finished.add(progress.customerId);
  });

  let rollout: RolloutState;
  if (input.carried && 'solutionKind' in input.carried) {
    rollout = input.carried as RolloutState;
  } else {
    await startChild(signOffWorkflow, {
      workflowId: signOffWorkflowId(input.planDocumentId),
      args: [{ documentId: input.planDocumentId, caseId, kind: 'rectification_plan', steps: ['manager_approval'], parentWorkflowId: workflowInfo().workflowId }],
    });
    await condition(() => plan?.status === 'signed');
    const started = await activities.startRectificationRollout({ caseId, at: now() });
    rollout = { running: [], lastBatch: 0, runs: 1, exhausted: false, ...started };
  }

  const running = new Set(rollout.running);
  const settle = () => {
    for (const customerId of finished) running.delete(customerId);
    finished.clear();
  };

  for (;;) {
    settle();
    while (!rollout.exhausted && running.size < input.batchSize) {
      const batch = rollout.lastBatch + 1;
      const customers = await activities.claimRectificationCustomers({ caseId, batch, limit: input.batchSize - running.size });
      rollout.lastBatch = batch;
      if (customers.length === 0) {
        rollout.exhausted = true;
        break;
      }
      for (const customerId of customers) {
        try {
          await startChild(rectificationCustomerWorkflow, {
            workflowId: customerWorkflowId(campaignNumber, customerId),
            // A customer's child outlives the run that started it: the next run (after a continue-as-new) waits for it.
            parentClosePolicy: ParentClosePolicy.ABANDON,
            args: [{ campaignCaseId: caseId, campaignNumber, customerId, parentWorkflowId: workflowInfo().workflowId, solutionKind: rollout.solutionKind, highRisk: rollout.highRisk }],
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
        running.add(customerId);
      }
      settle();
    }
    if (rollout.exhausted && running.size === 0) break;
    await condition(() => finished.size > 0 || workflowInfo().historyLength > input.historyLimit);
    if (workflowInfo().historyLength > input.historyLimit) {
      await condition(allHandlersFinished);
      settle();
      await continueAsNew<typeof rectificationCampaignWorkflow>({ ...input, carried: { ...rollout, running: [...running].sort(), runs: rollout.runs + 1 } });
    }
  }

  return activities.completeRectificationCampaign({ caseId, at: now() });
}
