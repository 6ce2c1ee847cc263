import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Goods claims run to their end: one held for two items, chased, completed by an upload and an
// identifier, and credited; one that lapsed at the end of its window. Regenerate after an intended change with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/goods-claim/goods-claim.test.ts
// and keep the older file beside it, with `patched()` in the workflow, once claims run in production.
const HISTORIES = ['goods-claim-chased-completed-credited.binpb', 'goods-claim-lapsed.binpb'];

describe('goods-claim workflow replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(10);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
