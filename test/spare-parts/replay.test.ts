import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Regenerate after an intended change to the workflow with:
//   SAVE_WORKFLOW_HISTORIES=1 npm test -- test/spare-parts/spare-part-loan.test.ts -t "happy path"
const HAPPY_PATH_HISTORY = path.join(__dirname, 'histories', 'spare-part-happy-path.binpb');

describe('spare-part workflow replay', () => {
  test('the saved history of a happy-path loan replays deterministically on the current workflow code', async () => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(HAPPY_PATH_HISTORY));
    expect(history.events.length).toBeGreaterThan(20);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'spare-part-happy-path')).resolves.toBeUndefined();
  });
});
