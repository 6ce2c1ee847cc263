import { z } from 'zod';
import type { Db } from '../../db';
import type { DocumentDecisionsTable } from '../../db/schema';
import {
  DOCUMENT_DECISIONS,
  DOCUMENT_KINDS,
  SIGN_OFF_STATUSES,
  SIGN_OFF_STEPS,
  STEP_DECISIONS,
  type SignOffStatus,
  type SignOffStep,
} from '../../workflows/sign-off/definitions';
import { highRiskOperationsIn } from '../../workflows/rules/high-risk';
import { ApiError } from '../errors';

// The read model of a document: every version and every decision, and the sign-off's state as it
// follows from them (the rows are append-only; nothing else records the state).

const decisionSchema = z.object({
  authorisedHighRiskOperations: z
    .array(z.string())
    .optional()
    .meta({ description: "A manager's approval: the high-risk operations of the version it authorises, by name" }),
  step: z.enum([...SIGN_OFF_STEPS, 'withdrawal', 'reopening']),
  decision: z.enum([...DOCUMENT_DECISIONS, 'withdrawn', 'reopened']),
  comment: z.string().nullable(),
  by: z.string(),
  role: z.string(),
  at: z.string(),
});

export const documentSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    caseNumber: z.string(),
    kind: z.enum(DOCUMENT_KINDS),
    title: z.string(),
    steps: z.array(z.enum(SIGN_OFF_STEPS)),
    workflowId: z.string(),
    status: z.enum(SIGN_OFF_STATUSES),
    currentVersion: z.number().int().meta({ description: 'The version in review, or the last one; 0 before the first' }),
    waitingFor: z.enum(SIGN_OFF_STEPS).nullable().meta({ description: 'The step the current version waits for' }),
    versions: z.array(
      z.object({
        version: z.number().int(),
        content: z.record(z.string(), z.unknown()),
        reason: z.string().nullable(),
        submittedBy: z.string(),
        role: z.string(),
        at: z.string(),
        decisions: z.array(decisionSchema),
      }),
    ),
  })
  .meta({ id: 'Document' });
export type DocumentDto = z.input<typeof documentSchema>;

type DecisionRow = Pick<DocumentDecisionsTable, 'version' | 'step' | 'decision'>;

/** Where a sign-off stands, from its steps, its latest version number and the decisions recorded. */
export function signOffStateOf(steps: readonly SignOffStep[], latestVersion: number, decisions: readonly DecisionRow[]): { status: SignOffStatus; waitingFor: SignOffStep | null } {
  if (decisions.some((decision) => decision.step === 'withdrawal')) return { status: 'withdrawn', waitingFor: null };
  if (latestVersion === 0) return { status: 'awaiting_version', waitingFor: null };
  const onLatest = decisions.filter((decision) => decision.version === latestVersion);
  // A signed version reopened (a plan changed on site): the next version is awaited.
  if (onLatest.some((decision) => decision.step === 'reopening')) return { status: 'awaiting_version', waitingFor: null };
  const sentBack = onLatest.some(
    (decision) => decision.step !== 'withdrawal' && decision.step !== 'reopening' && decision.decision !== STEP_DECISIONS[decision.step][0],
  );
  if (sentBack) return { status: 'returned', waitingFor: null };
  const next = steps.find((step) => !onLatest.some((decision) => decision.step === step));
  return next ? { status: 'in_review', waitingFor: next } : { status: 'signed', waitingFor: null };
}

const iso = (value: Date | string): string => new Date(value).toISOString();

export async function loadDocument(db: Db, documentId: string): Promise<DocumentDto> {
  const document = await db
    .selectFrom('documents as d')
    .innerJoin('cases as c', 'c.id', 'd.case_id')
    .select(['d.id', 'd.case_id', 'd.kind', 'd.title', 'd.steps', 'd.workflow_id', 'c.number as case_number'])
    .where('d.id', '=', documentId)
    .executeTakeFirst();
  if (!document) throw ApiError.notFound('document', documentId);
  const [versions, decisions] = await Promise.all([
    db.selectFrom('document_versions').selectAll().where('document_id', '=', documentId).orderBy('version').execute(),
    db.selectFrom('document_decisions').selectAll().where('document_id', '=', documentId).orderBy('decided_at').orderBy('id').execute(),
  ]);
  const latestVersion = versions.at(-1)?.version ?? 0;
  const { status, waitingFor } = signOffStateOf(document.steps, latestVersion, decisions);
  return {
    id: document.id,
    caseId: document.case_id,
    caseNumber: document.case_number,
    kind: document.kind,
    title: document.title,
    steps: document.steps,
    workflowId: document.workflow_id,
    status,
    currentVersion: latestVersion,
    waitingFor,
    versions: versions.map((version) => ({
      version: version.version,
      content: version.content,
      reason: version.reason,
      submittedBy: version.submitted_by,
      role: version.submitted_by_role,
      at: iso(version.submitted_at),
      decisions: decisions
        .filter((decision) => decision.version === version.version)
        .map((decision) => ({
          ...(decision.step === 'manager_approval' && decision.decision === 'approved' && highRiskOperationsIn(version.content).length > 0
            ? { authorisedHighRiskOperations: highRiskOperationsIn(version.content) }
            : {}),
          step: decision.step,
          decision: decision.decision,
          comment: decision.comment,
          by: decision.decided_by,
          role: decision.decided_by_role,
          at: iso(decision.decided_at),
        })),
    })),
  };
}
