import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/process-harness';

// Regenerate after an intended change to the workflow with:
//   SAVE_WORKFLOW_HISTORIES=1 npx jest test/rma-repair/rma-repair.test.ts --runInBand
// under new file names, and keep the older ones: RMAs and loans started on earlier code must still replay.
const HISTORIES = [
  // A desk RMA: a wrong serial asked again, repaired and replaced, shipped on time, confirmed on the link page.
  'rma-repair-desk-closed.binpb',
  // A spare-part loan whose return started its internal RMA as a child (patch 'spare-part-internal-rma').
  'spare-part-returned-internal-rma.binpb',
];

const read = (file: string) => temporal.api.history.v1.History.decode(fs.readFileSync(path.join(__dirname, 'histories', file)));

describe('RMA repair replay', () => {
  test.each(HISTORIES)('the saved history %s replays deterministically on the current workflow code', async (file) => {
    const history = read(file);
    expect(history.events.length).toBeGreaterThan(10);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });

  test('the loan started its internal RMA as a child that outlives it, behind the patch marker', () => {
    const events = read('spare-part-returned-internal-rma.binpb').events;
    const patches = events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(patches).toHaveLength(2);
    const child = events.find((event) => event.startChildWorkflowExecutionInitiatedEventAttributes)?.startChildWorkflowExecutionInitiatedEventAttributes;
    expect(child?.workflowType?.name).toBe('rmaRepairWorkflow');
    expect(child?.workflowId).toMatch(/^rma\/RMA-2026-\d{6}$/);
    expect(child?.parentClosePolicy).toBe(temporal.api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON);
  });
});
