import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Regenerate after an intended change to the workflow with:
//   SAVE_WORKFLOW_HISTORIES=1 npm test -- test/spare-parts/spare-part-loan.test.ts -t "happy path"
const HAPPY_PATH_HISTORY = path.join(__dirname, 'histories', 'spare-part-happy-path.json');

describe('spare-part workflow replay', () => {
  test('the saved history of a happy-path loan replays deterministically on the current workflow code', async () => {
    const history = JSON.parse(fs.readFileSync(HAPPY_PATH_HISTORY, 'utf8')) as unknown;
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'spare-part-happy-path')).resolves.toBeUndefined();
  });
});
