import { allHandlersFinished, condition, log, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { untilOr } from '../shared/step-queue';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import {
  RMA_REPAIR_FINAL_STATUSES,
  RMA_REPAIR_STEPS,
  confirmRmaDeliveryUpdate,
  recordRmaOutcomeUpdate,
  recordRmaReceiptUpdate,
  resolveRmaDiscrepancyUpdate,
  rmaRepairStateQuery,
  shipRmaBackUpdate,
  type RmaDeliveryConfirmationInput,
  type RmaDiscrepancyResolutionInput,
  type RmaOutcomeInput,
  type RmaReceiptInput,
  type RmaRepairInput,
  type RmaRepairState,
  type RmaRepairStatus,
  type RmaShipBackInput,
  type ShipBackDeadline,
} from './definitions';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<RmaRepairStatus, string> = {
  awaiting_return: 'is waiting for the parts to arrive',
  discrepancy: 'holds a part whose serial does not match, to be resolved by the desk',
  in_repair: 'is in repair',
  awaiting_shipment: 'is repaired and waits to be shipped back',
  shipped: 'was shipped back and waits for the customer to confirm receipt',
  closed: 'is closed',
  in_stock_repair: 'is being repaired back into stock',
  restocked: 'is closed: the part was repaired back into stock',
  scrapped: 'is closed: the part was scrapped',
};

/**
 * RMA repair (P5, 004 12.2.3), one workflow per RMA. A customer's RMA: the return address is emailed
 * -> goods receipt with a serial check per part (a mismatch holds it until the desk resolves it) ->
 * repair or replacement per part -> shipped back by the SLA deadline computed at receipt (the
 * managers are told at 75 % of it and when it is missed) -> the customer confirms receipt on the link
 * page (chased after 3 working days) -> closed. An internal RMA (a part returned to a spare-part loan):
 * repaired back into stock or scrapped, no customer emails.
 */
export async function rmaRepairWorkflow(input: RmaRepairInput): Promise<RmaRepairState> {
  const { caseId, caseNumber } = input;
  const state: RmaRepairState = {
    caseNumber,
    status: 'awaiting_return',
    internal: null,
    shipBack: null,
    dueWarnedAt: null,
    dueMissedAt: null,
    shippedAt: null,
    shippedLate: null,
    deliveryChaseAt: null,
    deliveryChasedAt: null,
  };
  const steps = createCaseSteps({ state, subject: `RMA ${caseNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const isFinal = () => RMA_REPAIR_FINAL_STATUSES.includes(state.status);
  const shipped = () => state.shippedAt !== null || isFinal();
  const stepUpdate = <Arg>(definition: UpdateDefinition<RmaRepairState, [Arg]>, rule: StepRule<RmaRepairStatus>, step: (arg: Arg) => Promise<RmaRepairStatus>): void =>
    steps.update(definition, rule, step, () => state);

  // First in the queue, before any handler exists: a step sent with the start (delivered as soon as its
  // handler is set) waits for the case to be read and is checked against it, not against the initial state.
  const opening = steps.run(async () => {
    const opened = await activities.openRmaRepair({ caseId });
    state.internal = opened.internal;
    state.status = opened.status;
    state.shipBack = opened.shipBack;
  });

  setHandler(rmaRepairStateQuery, () => state);

  stepUpdate(recordRmaReceiptUpdate, RMA_REPAIR_STEPS.recordReceipt, async (receipt: RmaReceiptInput) => {
    const result = await activities.recordRmaReceipt({ caseId, receipt });
    state.shipBack ??= result.shipBack;
    return result.status;
  });

  stepUpdate(resolveRmaDiscrepancyUpdate, RMA_REPAIR_STEPS.resolveDiscrepancy, async (resolution: RmaDiscrepancyResolutionInput) => {
    const result = await activities.resolveRmaDiscrepancy({ caseId, resolution });
    state.shipBack ??= result.shipBack;
    return result.status;
  });

  stepUpdate(recordRmaOutcomeUpdate, RMA_REPAIR_STEPS.recordOutcome, async (outcome: RmaOutcomeInput) => (await activities.recordRmaOutcome({ caseId, outcome })).status);

  stepUpdate(shipRmaBackUpdate, RMA_REPAIR_STEPS.shipBack, async (shipment: RmaShipBackInput) => {
    const result = await activities.shipRmaBack({ caseId, shipment });
    state.shippedAt = shipment.shippedAt;
    state.shippedLate = result.late;
    state.deliveryChaseAt = result.deliveryChaseAt;
    return 'shipped';
  });

  stepUpdate(confirmRmaDeliveryUpdate, RMA_REPAIR_STEPS.confirmDelivery, async (confirmation: RmaDeliveryConfirmationInput) => {
    await activities.confirmRmaDelivery({ caseId, confirmation });
    return 'closed';
  });

  await opening;

  if (!state.internal) {
    await condition(() => state.shipBack !== null || isFinal());
    if (state.shipBack && !shipped()) await watchShipBack(state.shipBack);
    await condition(() => state.deliveryChaseAt !== null || isFinal());
    if (state.deliveryChaseAt && !isFinal()) await chaseDelivery(state.deliveryChaseAt);
  }

  await condition(isFinal);
  await condition(allHandlersFinished);
  return state;

  /** The managers hear of a ship-back close to its deadline, and again when it is missed; each once, never after shipping. */
  async function watchShipBack(deadline: ShipBackDeadline): Promise<void> {
    const dueAlreadyPast = Date.parse(deadline.dueAt) <= Date.now();
    if (!dueAlreadyPast && !(await untilOr(shipped, deadline.warnAt))) {
      await steps.run(async () => {
        if (shipped()) return;
        const at = new Date().toISOString();
        await activities.warnRmaShipBackDue({ caseId, at });
        state.dueWarnedAt = at;
      });
    }
    if (await untilOr(shipped, deadline.dueAt)) return;
    // A shipment queued before the deadline step decides first.
    await steps.run(async () => {
      if (shipped()) return;
      const at = new Date().toISOString();
      await activities.markRmaShipBackMissed({ caseId, at });
      state.dueMissedAt = at;
      log.info('RMA ship-back deadline missed', { caseNumber, dueAt: deadline.dueAt });
    });
  }

  /** A shipment whose receipt the customer has not confirmed is chased once, with a fresh link. */
  async function chaseDelivery(chaseAt: string): Promise<void> {
    if (await untilOr(isFinal, chaseAt)) return;
    await steps.run(async () => {
      if (state.status !== 'shipped') return;
      const at = new Date().toISOString();
      await activities.chaseRmaDelivery({ caseId, at });
      state.deliveryChasedAt = at;
    });
  }
}
