// npm run bench:sdk-floor: the cost of the Temporal SDK worker alone on this machine. N workflows
// (default 500) each take 16 no-op local activities, as many workflow activations as a spare-part
// loan, with no database, no email and no API. Prints workflows and activations per second and the
// worker's CPU, and what that rate means for the 10,000 loans of bench:spare-parts.
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createTestEnv } from '../support/temporal';
import { cpuProbeMs } from './machine';
import { STEPS } from './sdk-floor-workflows';

const WORKFLOWS = Number(process.env.WORKFLOWS ?? 500);
const LOANS = 10_000;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const probeMs = cpuProbeMs();
  const [env, workflowBundle] = await Promise.all([createTestEnv(), bundleWorkflowCode({ workflowsPath: require.resolve('./sdk-floor-workflows'), logger: new DefaultLogger('WARN') })]);
  const taskQueue = `sdk-floor-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: { async noop() {} }, maxCachedWorkflows: WORKFLOWS + 10 });
  const running = worker.run();
  try {
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    await Promise.all(Array.from({ length: WORKFLOWS }, (_, index) => env.client.workflow.execute('emptySteps', { workflowId: `${taskQueue}-${index}`, taskQueue })));
    const seconds = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const activations = WORKFLOWS * (STEPS + 1);
    console.log(
      [
        `CPU probe: ${probeMs.toFixed(0)} ms (lower is a faster machine; compare runs only at similar values)`,
        `${WORKFLOWS} workflows x ${STEPS} no-op local activities: ${seconds.toFixed(1)} s`,
        `${(WORKFLOWS / seconds).toFixed(1)} workflows/s, ${(activations / seconds).toFixed(0)} activations/s`,
        `worker process CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${(((cpu.user + cpu.system) / 1e3 / activations)).toFixed(2)} ms per activation)`,
        `at this rate ${LOANS.toLocaleString('en')} loans of ~${STEPS + 1} activations need at least ${((LOANS * seconds) / WORKFLOWS).toFixed(0)} s before any database or email work`,
      ].join('\n'),
    );
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
