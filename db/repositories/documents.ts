import type { DbExecutor } from '..';
import type { DocumentKind, SignOffStep } from '../../workflows/sign-off/definitions';
import { signOffWorkflowId } from '../../workflows/sign-off/definitions';

export interface NewDocument {
  /** Chosen by the caller (a workflow's deterministic uuid4), so that a retried insert is the same document. */
  id: string;
  caseId: string;
  kind: DocumentKind;
  title: string;
  steps: readonly SignOffStep[];
  /** Who signs for the customer; required when the steps include the customer's signature. */
  contactId: string | null;
  createdBy: string;
}

/** Registers a document (idempotent by id); its sign-off workflow id follows from the id. */
export async function insertDocument(db: DbExecutor, document: NewDocument): Promise<{ id: string; workflowId: string }> {
  const workflowId = signOffWorkflowId(document.id);
  await db
    .insertInto('documents')
    .values({
      id: document.id,
      case_id: document.caseId,
      kind: document.kind,
      title: document.title,
      steps: [...document.steps],
      contact_id: document.contactId,
      workflow_id: workflowId,
      created_by: document.createdBy,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return { id: document.id, workflowId };
}

/**
 * Reopens a signed document (e.g. a plan changed on site): recorded as its own row on the signed
 * version, so the document reads as waiting for a new version. Idempotent per version.
 */
export function documentReopeningInsert(db: DbExecutor, reopening: { documentId: string; signedVersion: number; reason: string; by: string; role: string; at: string }) {
  return db
    .insertInto('document_decisions')
    .values({
      document_id: reopening.documentId,
      version: reopening.signedVersion,
      step: 'reopening',
      decision: 'reopened',
      comment: reopening.reason,
      decided_by: reopening.by,
      decided_by_role: reopening.role,
      decided_at: reopening.at,
    })
    .onConflict((oc) => oc.columns(['document_id', 'version', 'step']).doNothing());
}
