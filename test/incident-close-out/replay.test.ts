import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Incident close-out rounds saved from the workflow code. Regenerate after an intended change with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/incident-close-out/close-out.test.ts
// and keep the older file beside it, with `patched()` in the workflow, once incidents run in production.
const HISTORIES = [
  // A round to the archive: the incident report objected to once then signed, the summary report sent back
  // once then customised and delivered, the follow-up, the group summary, the meeting booked twice, the minutes.
  'incident-close-out-archived.binpb',
  // A round cancelled by the incident (the same symptom within 24 h): its report withdrawn, the round superseded.
  'incident-close-out-superseded.binpb',
];

describe('incident close-out workflow replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));
    expect(history.events.length).toBeGreaterThan(10);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
