import { ApplicationFailure, condition, getExternalWorkflowHandle, proxyLocalActivities, setHandler, startChild, uuid4, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { createCaseSteps } from '../shared/case-steps';
import { BUSINESS_RULE_VIOLATION } from '../shared/definitions';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import { documentChangedSignal, signOffWorkflowId, withdrawDocumentSignal, type SignOffState } from '../sign-off/definitions';
import { signOffWorkflow } from '../sign-off/workflow';
import {
  RECTIFICATION_CUSTOMER_STEPS,
  confirmRectificationDevicesUpdate,
  declineRectificationCustomerUpdate,
  rectificationCustomerProgressSignal,
  rectificationCustomerStateQuery,
  siteWorkflowId,
  type RectificationCustomerInput,
  type RectificationCustomerResult,
  type RectificationCustomerState,
  type RectificationCustomerStatus,
} from './definitions';
import { siteDeviceOutcomeSignal } from './site-definitions';
import { rectificationSiteWorkflow } from './site-workflow';

const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<RectificationCustomerStatus, string> = {
  pending: 'has not started',
  awaiting_agreement: 'waits for the customer to agree the plan and timing',
  in_progress: 'is being rectified',
  completed: 'is completed',
  declined: 'was declined by the customer',
};

/**
 * One customer of a campaign: the plan and timing are agreed with them (the agreement document, signed
 * by their contact on the customer page), or they refuse with proof (declined). Agreed: hardware goes to
 * a site visit per site (the site child workflows); software is applied by the customer, who confirms
 * each device on their link page or asks for an engineer (a site visit for those sites). Ends when every
 * device of theirs is rectified or declined and every site visit has finished; the campaign is told of
 * its progress by signal.
 */
export async function rectificationCustomerWorkflow(input: RectificationCustomerInput): Promise<RectificationCustomerResult> {
  const { campaignCaseId: caseId, campaignNumber, customerId } = input;
  const state: RectificationCustomerState = { status: 'awaiting_agreement', agreementDocumentId: null, open: 0, sites: [] };
  const steps = createCaseSteps({ state, subject: `customer ${customerId} of campaign ${campaignNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const now = () => new Date().toISOString();

  let agreement: SignOffState | undefined;
  /** Something changed the customer's open devices: count them again. */
  let changed = false;
  const visits: Promise<void>[] = [];
  let runningVisits = 0;
  let visitFailure: Error | undefined;

  const startVisits = async (sites: { siteId: string; deviceIds: string[] }[]): Promise<void> => {
    for (const site of sites) {
      const handle: ChildWorkflowHandle<typeof rectificationSiteWorkflow> = await startChild(rectificationSiteWorkflow, {
        workflowId: siteWorkflowId(campaignNumber, site.siteId),
        args: [{ campaignCaseId: caseId, campaignNumber, customerId, siteId: site.siteId, deviceIds: site.deviceIds, parentWorkflowId: workflowInfo().workflowId, highRisk: input.highRisk }],
      });
      state.sites.push(site.siteId);
      runningVisits += 1;
      visits.push(
        handle.result().then(
          () => {
            runningVisits -= 1;
            changed = true;
          },
          (error: unknown) => {
            visitFailure ??= error instanceof Error ? error : new Error(String(error));
          },
        ),
      );
    }
  };

  setHandler(rectificationCustomerStateQuery, () => state);
  setHandler(documentChangedSignal, (document) => {
    if (document.documentId === state.agreementDocumentId) agreement = document;
  });
  setHandler(siteDeviceOutcomeSignal, () => {
    changed = true;
  });

  steps.update(
    declineRectificationCustomerUpdate,
    RECTIFICATION_CUSTOMER_STEPS.decline,
    async (arg) => {
      await activities.declineRectificationCustomer({ caseId, customerId, stamp: { actor: arg.actor, role: arg.role, at: arg.at }, reason: arg.reason, evidenceIds: arg.evidenceIds });
      if (agreement?.status !== 'signed' && state.agreementDocumentId) {
        await getExternalWorkflowHandle(signOffWorkflowId(state.agreementDocumentId)).signal(withdrawDocumentSignal, { actor: arg.actor, role: arg.role, at: arg.at, reason: `declined by the customer: ${arg.reason}` });
      }
      changed = true;
      return 'declined';
    },
    () => state,
    (arg) => {
      if (arg.evidenceIds.length === 0) throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message: 'a refusal is recorded with the customer’s proof', details: [{ field: 'evidenceIds' }] });
    },
  );

  steps.update(
    confirmRectificationDevicesUpdate,
    RECTIFICATION_CUSTOMER_STEPS.confirmDevices,
    async (arg) => {
      const result = await activities.confirmRectificationDevices({
        caseId,
        customerId,
        stamp: { actor: arg.actor, role: arg.role, at: arg.at },
        deviceIds: arg.deviceIds,
        outcome: arg.outcome,
        note: arg.note,
        key: uuid4(),
      });
      await startVisits(result.visits);
      changed = true;
      return state.status;
    },
    () => state,
    () => {
      if (input.solutionKind !== 'software') {
        throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message: 'the customer applies only a software fix themselves: this campaign replaces parts on site', details: [{ field: 'outcome' }] });
      }
    },
  );

  // In turn with the updates: a refusal recorded first leaves nothing to agree.
  await steps.run(async () => {
    const opened = await activities.openRectificationCustomer({ caseId, customerId, documentId: uuid4(), at: now() });
    state.open = opened.open;
    if (opened.status === 'declined') {
      state.status = 'declined';
      return;
    }
    await startChild(signOffWorkflow, {
      workflowId: signOffWorkflowId(opened.documentId),
      args: [{ documentId: opened.documentId, caseId, kind: 'rectification_agreement', steps: ['customer_signature'], parentWorkflowId: workflowInfo().workflowId }],
    });
    state.agreementDocumentId = opened.documentId;
  });

  await condition(() => agreement?.status === 'signed' || state.status === 'declined');
  if (state.status !== 'declined') {
    await steps.run(async () => {
      if (state.status !== 'awaiting_agreement') return;
      const agreed = await activities.recordRectificationAgreement({ caseId, customerId, at: now() });
      state.status = 'in_progress';
      await startVisits(agreed.visits);
      changed = true;
    });
  }

  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  let told = -1;
  for (;;) {
    await condition(() => changed || visitFailure !== undefined);
    if (visitFailure !== undefined) throw visitFailure;
    changed = false;
    state.open = await activities.countOpenRectificationDevices({ caseId, customerId });
    if (state.open === 0 && runningVisits === 0) break;
    if (state.open !== told) {
      told = state.open;
      await parent.signal(rectificationCustomerProgressSignal, { customerId, open: state.open, finished: false });
    }
  }

  const result = await steps.run(async () => {
    const closed = await activities.completeRectificationCustomer({ caseId, customerId, at: now() });
    state.status = closed.status;
    return closed;
  });
  await parent.signal(rectificationCustomerProgressSignal, { customerId, open: 0, finished: true });
  return { customerId, status: result.status, rectified: result.rectified, declined: result.declined };
}
