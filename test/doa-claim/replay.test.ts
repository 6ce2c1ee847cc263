import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// DOA claims as they ran to their end: accepted (conditions checked twice, approved, shipped, the
// unit back before the receipt -> closed), and rejected then converted into an RMA repair (the RMA
// started as an abandoned child). Regenerate after an intended change with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/doa-claim/doa-claim.test.ts
// and keep the older file beside it, with `patched()` in the workflow, once claims run in production.
const HISTORIES = ['doa-claim-accepted-closed.binpb', 'doa-claim-rejected-converted.binpb'];

describe('DOA claim workflow replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(20);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
