import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Saved histories of the campaign and its customer children. Regenerate after an intended change with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/rectification/campaign-software.test.ts test/rectification/campaign-sites.test.ts --runInBand
// and keep the older file beside it, with `patched()` in the workflow, once campaigns run in production.
const HISTORIES = [
  // A campaign's first run: the plan approved, one customer started, continued as new while it ran.
  'rectification-campaign-first-run.binpb',
  // A campaign over 3 sites to completion: a customer declined, the other's two site visits done.
  'rectification-campaign-sites.binpb',
  // A customer applying a software fix device by device on the link page (and one through the desk).
  'rectification-customer-software-applied.binpb',
  // A customer with two site children, one failed once and rescheduled.
  'rectification-customer-sites-failed-then-rectified.binpb',
];

describe('rectification campaign workflows replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(20);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
