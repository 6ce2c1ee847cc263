import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../../db';
import { INCIDENT_CLOSE_OUT_FINAL_STATUSES, incidentCloseOutWorkflowId } from '../../workflows/incident-close-out/definitions';

/** An open case whose workflow cannot carry it any further. */
export interface OrphanedCase {
  caseNumber: string;
  kind: string;
  status: string;
  workflowId: string;
  /** `missing`: no such workflow on the Temporal server; `closed`: it ended while the case is still open. */
  problem: 'workflow_missing' | 'workflow_closed';
  workflowStatus: string | null;
}

/** A running workflow of this task queue that no case row points at. */
export interface WorkflowWithoutCase {
  workflowId: string;
  runId: string;
  workflowType: string;
  startedAt: string;
}

export interface ConsistencyReport {
  checkedAt: string;
  openCases: number;
  runningWorkflows: number;
  orphanedCases: OrphanedCase[];
  workflowsWithoutCase: WorkflowWithoutCase[];
}

export interface ConsistencyOptions {
  taskQueue: string;
  /**
   * Cases and workflows younger than this are not judged: a case row commits and its workflow
   * starts one after the other, and a real cluster's visibility store lags by a few seconds.
   */
  graceMs?: number;
  now?: Date;
}

const DESCRIBE_CONCURRENCY = 16;

async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Every open case whose workflow is missing or closed, and every running workflow without a case
 * row. Running workflows come from one visibility listing; only the open cases not in it are
 * described one by one, to tell a missing workflow from a closed one.
 */
export async function checkProcessConsistency(db: Db, temporal: Client, options: ConsistencyOptions): Promise<ConsistencyReport> {
  const now = options.now ?? new Date();
  const horizon = new Date(now.getTime() - (options.graceMs ?? 30_000));
  const openCases = await db
    .selectFrom('cases')
    .select(['number', 'kind', 'status', 'workflow_id', 'created_at'])
    .where('closed_at', 'is', null)
    .execute();

  const running = new Map<string, WorkflowWithoutCase>();
  const query = `ExecutionStatus = 'Running' AND TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}'`;
  for await (const execution of temporal.workflow.list({ query })) {
    running.set(execution.workflowId, {
      workflowId: execution.workflowId,
      runId: execution.runId,
      workflowType: execution.type,
      startedAt: execution.startTime.toISOString(),
    });
  }

  const suspects = openCases.filter((row) => !running.has(row.workflow_id) && new Date(row.created_at) < horizon);
  const described = await mapConcurrently(suspects, DESCRIBE_CONCURRENCY, async (row): Promise<OrphanedCase | undefined> => {
    try {
      const description = await temporal.workflow.getHandle(row.workflow_id).describe();
      // Listed as not running a moment ago, but visibility may lag: trust the describe.
      if (description.status.name === 'RUNNING') return undefined;
      return { caseNumber: row.number, kind: row.kind, status: row.status, workflowId: row.workflow_id, problem: 'workflow_closed', workflowStatus: description.status.name };
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      return { caseNumber: row.number, kind: row.kind, status: row.status, workflowId: row.workflow_id, problem: 'workflow_missing', workflowStatus: null };
    }
  });

  // A case's own workflow, or a child of it with a row of its own (a document's sign-off, an incident's open close-out round).
  const runningIds = [...running.keys()];
  const [caseRows, documentRows, closeOutRows] =
    runningIds.length === 0
      ? [[], [], []]
      : await Promise.all([
          db.selectFrom('cases').select('workflow_id').where('workflow_id', 'in', runningIds).execute(),
          db.selectFrom('documents').select('workflow_id').where('workflow_id', 'in', runningIds).execute(),
          db.selectFrom('incident_close_outs').select('case_number').where('status', 'not in', INCIDENT_CLOSE_OUT_FINAL_STATUSES).execute(),
        ]);
  const caseWorkflowIds = new Set([...caseRows, ...documentRows].map((row) => row.workflow_id));
  for (const row of closeOutRows) caseWorkflowIds.add(incidentCloseOutWorkflowId(row.case_number));
  const workflowsWithoutCase = [...running.values()].filter((workflow) => !caseWorkflowIds.has(workflow.workflowId) && new Date(workflow.startedAt) < horizon);

  return {
    checkedAt: now.toISOString(),
    openCases: openCases.length,
    runningWorkflows: running.size,
    orphanedCases: described.filter((entry): entry is OrphanedCase => entry !== undefined),
    workflowsWithoutCase,
  };
}

export function describeInconsistencies(report: ConsistencyReport): string | undefined {
  const problems = report.orphanedCases.length + report.workflowsWithoutCase.length;
  if (problems === 0) return undefined;
  const cases = report.orphanedCases.map((entry) => `${entry.caseNumber} (${entry.problem.replace('_', ' ')})`);
  const workflows = report.workflowsWithoutCase.map((entry) => `${entry.workflowId} (no case row)`);
  return `${problems} process(es) out of step with their case: ${[...cases, ...workflows].join(', ')}`;
}

/** The orphan check at start-up: logged at error when any case and its workflow are out of step; never throws. */
export async function logProcessConsistency(db: Db, temporal: Client, options: ConsistencyOptions, logger: Logger): Promise<void> {
  try {
    const report = await checkProcessConsistency(db, temporal, options);
    const problem = describeInconsistencies(report);
    if (problem) logger.error({ orphanedCases: report.orphanedCases, workflowsWithoutCase: report.workflowsWithoutCase }, `${problem} (GET /admin/consistency)`);
    else logger.info({ openCases: report.openCases, runningWorkflows: report.runningWorkflows }, 'consistency check: every open case has its running workflow');
  } catch (error) {
    logger.error({ err: error }, 'the start-up consistency check failed');
  }
}
