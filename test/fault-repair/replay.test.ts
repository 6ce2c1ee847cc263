import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// A fault repair from registration to the archive (solved remotely: the service report signed, the
// fault report, the follow-up call and survey, the write-up sent back once then approved, the SLA
// clock that ran out after the archive). Regenerate after an intended change with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/fault-repair/follow-up.test.ts test/fault-repair/fault-repair.test.ts test/fault-repair/replan.test.ts
// and keep the older file beside it, with `patched()` in the workflow, once cases run in production.
const HISTORIES = [
  'fault-repair-solved-remotely-closed.binpb',
  // The full path with the plan: rejected by the manager, objected to by the customer, signed in v3; up to the follow-up.
  'fault-repair-plan-rounds-to-follow-up.binpb',
  // That plan's own sign-off workflow (a child of the case).
  'sign-off-plan-three-versions.binpb',
  // A case re-planned on site (the plan reopened, v4 signed by a second sign-off run), and that second run.
  'fault-repair-replanned-on-site.binpb',
  'sign-off-reopened-v4.binpb',
];

describe('fault-repair workflow replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(30);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
