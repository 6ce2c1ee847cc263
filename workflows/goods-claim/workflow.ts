import { allHandlersFinished, condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { untilOr } from '../shared/step-queue';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import {
  GOODS_CLAIM_FINAL_STATUSES,
  GOODS_CLAIM_STEPS,
  goodsClaimEvidenceAddedSignal,
  goodsClaimStateQuery,
  provideGoodsClaimIdentifiersUpdate,
  resolveGoodsClaimUpdate,
  type EvidenceCheck,
  type GoodsClaimInput,
  type GoodsClaimState,
  type GoodsClaimStatus,
} from './definitions';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<GoodsClaimStatus, string> = {
  registered: 'is being checked for its evidence',
  evidence_requested: 'waits for the evidence the rules require',
  resolution: 'waits for the desk to resolve it',
  replacement_shipped: 'is closed: the replacement was shipped',
  credited: 'is closed: credited',
  refused: 'is closed: refused',
  lapsed: 'lapsed: its window ended before the evidence was complete',
};

/**
 * Goods claim (P5). Registered inside its window (the API refuses one outside it) -> the evidence
 * checked by an activity: missing items -> evidence_requested (the customer emailed the list and the
 * claim's page), checked again whenever evidence arrives or identifiers are recorded, chased once after
 * 3 working days, lapsed at the end of the window if still incomplete; complete -> resolution, where
 * the desk ships a replacement, credits the customer or refuses with a reason.
 */
export async function goodsClaimWorkflow(input: GoodsClaimInput): Promise<GoodsClaimState> {
  const { caseId, claimNumber, deadlineAt } = input;
  const state: GoodsClaimState = {
    claimNumber,
    status: 'registered',
    deadlineAt,
    missing: [],
    chaseAt: null,
    chasedAt: null,
    lapsedAt: null,
    evidenceSignals: 0,
    identifierChanges: 0,
  };
  const steps = createCaseSteps({ state, subject: `goods claim ${claimNumber}`, statusWords: STATUS_WORDS, serialized: true });
  const stepUpdate = <Arg>(definition: UpdateDefinition<GoodsClaimState, [Arg]>, rule: StepRule<GoodsClaimStatus>, step: (arg: Arg) => Promise<GoodsClaimStatus>): void =>
    steps.update(definition, rule, step, () => state);
  const now = () => new Date().toISOString();
  const isFinal = () => GOODS_CLAIM_FINAL_STATUSES.includes(state.status);
  /** Records what a check found; returns the status it leaves the claim in. */
  const apply = (check: EvidenceCheck): GoodsClaimStatus => {
    state.missing = check.missing;
    state.chaseAt = check.chaseAt;
    return check.status;
  };

  setHandler(goodsClaimStateQuery, () => state);
  setHandler(goodsClaimEvidenceAddedSignal, () => {
    state.evidenceSignals += 1;
  });

  stepUpdate(provideGoodsClaimIdentifiersUpdate, GOODS_CLAIM_STEPS.provideIdentifiers, async (change) => {
    const sequence = (state.identifierChanges ?? 0) + 1;
    const status = apply(await activities.recordGoodsClaimIdentifiers({ caseId, change, sequence }));
    state.identifierChanges = sequence;
    return status;
  });

  stepUpdate(resolveGoodsClaimUpdate, GOODS_CLAIM_STEPS.resolve, async (resolution) => activities.resolveGoodsClaim({ caseId, resolution }));

  await steps.run(async () => {
    if (state.status === 'registered') state.status = apply(await activities.checkGoodsClaimEvidence({ caseId, at: now() }));
  });

  // Held for evidence: checked again on each arrival, chased once, lapsed at the end of the window.
  let signalsChecked = 0;
  const held = () => state.status === 'evidence_requested';
  while (held()) {
    const chaseDue = state.chaseAt !== null && state.chasedAt === null && Date.parse(state.chaseAt) < Date.parse(deadlineAt);
    const wakeAt = chaseDue ? state.chaseAt! : deadlineAt;
    const woken = await untilOr(() => !held() || state.evidenceSignals > signalsChecked, wakeAt);
    if (!held()) break;
    if (state.evidenceSignals > signalsChecked) {
      const covered = state.evidenceSignals;
      await steps.run(async () => {
        if (held()) state.status = apply(await activities.checkGoodsClaimEvidence({ caseId, at: now() }));
      });
      signalsChecked = covered;
      continue;
    }
    if (woken) continue;
    if (chaseDue) {
      await steps.run(async () => {
        if (!held()) return;
        const at = now();
        state.status = apply(await activities.chaseGoodsClaimEvidence({ caseId, at }));
        state.chasedAt = at;
      });
      continue;
    }
    await steps.run(async () => {
      if (!held()) return;
      const at = now();
      state.status = apply(await activities.lapseGoodsClaim({ caseId, at }));
      if (state.status === 'lapsed') state.lapsedAt = at;
    });
  }

  await condition(isFinal);
  await condition(allHandlersFinished);
  return state;
}
