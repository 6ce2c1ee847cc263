import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Saved incident histories replay on the current workflow code. Regenerate after an intended change with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/incident/ladder.test.ts test/incident/grading.test.ts test/incident/recovery-plan.test.ts test/incident/archive.test.ts --runInBand
// and keep the older file beside it, with `patched()` in the workflow, once incidents run in production.
const HISTORIES: [string, number][] = [
  // The whole ladder by time alone (2 h, on site + 4 h, 1 working day across a weekend), the standby unit chased twice and switched back.
  ['incident-ladder-to-standby-switch-back.binpb', 60],
  // Restored, continued by the same symptom within 24 h (close-out round cancelled, ladder again), restored a second time.
  ['incident-continued-and-restored-twice.binpb', 40],
  // The continuing notice: handed to the incident it continues.
  ['incident-continuation-notice.binpb', 5],
  // Decided not to be an incident: it went on as a fault repair.
  ['incident-not-an-incident.binpb', 5],
  // The expert group, the recovery plan through four versions (failed test, objection, signed, reopened after a failed implementation), restoration.
  ['incident-recovery-plan-four-versions.binpb', 60],
  // Archived by its close-out, then the 24-hour watch ran out: completed.
  ['incident-archived-after-watch.binpb', 40],
  // Archived, reopened by the same symptom within the watch, restored again (a second round).
  ['incident-reopened-after-archive.binpb', 40],
  // That plan's first sign-off run, with the acceptance_test step.
  ['sign-off-recovery-plan-with-test.binpb', 30],
];

describe('incident workflow replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file, minimumEvents) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(minimumEvents);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
