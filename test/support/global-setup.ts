import { cachedWorkflowBundle } from '../../worker/workflow-bundle';
import { workflowsPath } from '../../worker/worker';

// Builds the workflow bundle once, in jest's main process, before any test file runs: each file then
// reads it from the cache (worker/workflow-bundle.ts) instead of running webpack again in its worker.
export default async function globalSetup(): Promise<void> {
  await cachedWorkflowBundle(workflowsPath());
}
