import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../../db';
import type { CaseKind } from '../../db/schema';
import { doaClaimProcess } from '../doa-claim/registration';
import { faultRepairProcess } from '../fault-repair/registration';
import { rmaRepairProcess } from '../rma-repair/registration';
import { goodsClaimProcess } from '../goods-claim/registration';
import { incidentProcess } from '../incident/registration';
import { rectificationCampaignProcess } from '../rectification/registration';
import { sparePartProcess } from '../spare-part/registration';
import { startCaseWorkflow, type CaseProcess, type CaseRowForStart, type StartOutcome } from './case-processes';

/**
 * Every process, by the kind of case it carries: how to start its workflow from its case rows. A new
 * process (fault repair, incident, ...) adds its CaseProcess here.
 */
export const CASE_PROCESSES: Partial<Record<CaseKind, CaseProcess>> = {
  spare_part: sparePartProcess,
  fault_repair: faultRepairProcess,
  rma_repair: rmaRepairProcess,
  goods_claim: goodsClaimProcess,
  incident: incidentProcess,
  batch_rectification: rectificationCampaignProcess,
  doa_claim: doaClaimProcess,
};

export interface MissingProcessesOptions {
  taskQueue: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * Cases younger than this are left to the request that registered them (starting them anyway
   * would be harmless: the start is idempotent). Default 30 s.
   */
  graceMs?: number;
  now?: Date;
  processes?: Partial<Record<CaseKind, CaseProcess>>;
}

export interface MissingProcessesReport {
  /** Open cases in a start status, old enough to judge. */
  checked: number;
  /** Case numbers whose workflow did not exist and was started now. */
  started: string[];
  /** Case numbers whose workflow did not exist but had been started by someone else a moment earlier. */
  alreadyStarted: string[];
  /** Cases whose workflow did not exist and could not be started now (Temporal down, rows missing): tried again next time. */
  failed: { caseNumber: string; error: string }[];
}

const CONCURRENCY = 8;

async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function workflowExists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * Starts the workflow of every open case that registration committed but whose workflow does not
 * exist (the API crashed or Temporal refused between the commit and the start). Only cases still in
 * their process's start status are started; the start is idempotent, so two workers doing this at
 * once, or a registration still in flight, start each workflow once. Never throws for one case: the
 * report says what was started and what failed (to be tried again).
 */
export async function startMissingProcesses(db: Db, client: Client, options: MissingProcessesOptions): Promise<MissingProcessesReport> {
  const processes = options.processes ?? CASE_PROCESSES;
  const kinds = Object.keys(processes) as CaseKind[];
  const report: MissingProcessesReport = { checked: 0, started: [], alreadyStarted: [], failed: [] };
  if (kinds.length === 0) return report;
  const horizon = new Date((options.now ?? new Date()).getTime() - (options.graceMs ?? 30_000));
  const rows = await db
    .selectFrom('cases')
    .select(['id', 'kind', 'number', 'status', 'workflow_id'])
    .where('closed_at', 'is', null)
    .where('kind', 'in', kinds)
    .where('created_at', '<', horizon)
    .orderBy('created_at')
    .execute();
  const candidates = rows.filter((row) => processes[row.kind]!.startStatuses.includes(row.status));
  report.checked = candidates.length;

  await forEachConcurrently(candidates, CONCURRENCY, async (row: CaseRowForStart) => {
    const process = processes[row.kind]!;
    try {
      if (await workflowExists(client, row.workflow_id)) return;
      const input = await process.loadInput(db, row);
      if (input === undefined) throw new Error(`the ${row.kind} rows of case ${row.number} are missing`);
      const outcome: StartOutcome = await startCaseWorkflow(client, { taskQueue: options.taskQueue, workflowType: process.workflowType, workflowId: row.workflow_id, input });
      (outcome === 'started' ? report.started : report.alreadyStarted).push(row.number);
    } catch (error) {
      report.failed.push({ caseNumber: row.number, error: error instanceof Error ? error.message : String(error) });
    }
  });

  if (report.started.length > 0) options.logger.warn({ started: report.started }, `started the workflow of ${report.started.length} case(s) registered without one`);
  if (report.failed.length > 0) options.logger.error({ failed: report.failed }, `${report.failed.length} case(s) still have no workflow: starting it failed, tried again later`);
  return report;
}

/** Logs instead of throwing: for the worker's start-up and its periodic round. */
export async function startMissingProcessesSafely(db: Db, client: Client, options: MissingProcessesOptions): Promise<MissingProcessesReport | undefined> {
  try {
    return await startMissingProcesses(db, client, options);
  } catch (error) {
    options.logger.error({ err: error }, 'could not look for cases whose workflow never started');
    return undefined;
  }
}

export const MISSING_PROCESSES_INTERVAL_MS = 5 * 60_000;

/**
 * Runs startMissingProcesses now and then every `intervalMs` (default 5 minutes), one round at a
 * time, so that a case whose start failed while Temporal was down starts soon after it is back,
 * without a restart. `stop()` ends the rounds and waits for the one in progress.
 */
export function startMissingProcessesPeriodically(
  db: Db,
  client: Client,
  options: MissingProcessesOptions & { intervalMs?: number; afterFirstRound?: () => Promise<void> },
): { firstRound: Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const round = async () => {
    await startMissingProcessesSafely(db, client, options);
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round().finally(schedule);
    }, options.intervalMs ?? MISSING_PROCESSES_INTERVAL_MS);
    timer.unref();
  };
  const firstRound = round()
    .then(() => options.afterFirstRound?.())
    .catch((error: unknown) => options.logger.error({ err: error }, 'the check after the first round of process starts failed'))
    .finally(schedule);
  current = firstRound;
  return {
    firstRound,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current.catch(() => undefined);
    },
  };
}
