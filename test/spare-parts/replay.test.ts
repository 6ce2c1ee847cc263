import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Regenerate the current one after an intended change to the workflow with:
//   SAVE_WORKFLOW_HISTORIES=1 npm test -- test/spare-parts/spare-part-loan.test.ts -t "happy path"
// and keep the older ones: loans started on earlier code must still replay (see `patched` in the workflow).
const HISTORIES = [
  // Before the 'spare-part-serialized-steps' patch: a step was refused while another ran, reminders checked before the wait.
  'spare-part-happy-path.binpb',
  // With it: steps queued one at a time, reminders checked when due.
  'spare-part-happy-path-serialized-steps.binpb',
];

describe('spare-part workflow replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(20);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });

  test('the current history carries the patch marker and the older one does not', () => {
    const markers = (file: string) =>
      temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file))).events.filter(
        (event) => event.markerRecordedEventAttributes?.markerName === 'core_patch',
      ).length;
    expect(markers('spare-part-happy-path.binpb')).toBe(0);
    expect(markers('spare-part-happy-path-serialized-steps.binpb')).toBe(1);
  });
});
