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
