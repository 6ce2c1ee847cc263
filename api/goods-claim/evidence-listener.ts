import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { CaseKind } from '../../db/schema';
import { goodsClaimEvidenceAddedSignal } from '../../workflows/goods-claim/definitions';

/** What an upload tells its listeners (api/evidence/routes.ts EvidenceListener). */
export interface EvidenceAdded {
  caseId: string;
  caseKind: CaseKind;
  caseNumber: string;
  workflowId: string;
  files: { id: string; item: string | null }[];
}

/**
 * Tells a goods claim's workflow that evidence arrived, so that it checks completeness again (the
 * check reads the files from the database). Uploads to other kinds of case are not its business; one
 * to a claim that already finished is stored with it and changes nothing.
 */
export function goodsClaimEvidenceListener(deps: { temporal: Client; logger: Pick<Logger, 'info'> }): (added: EvidenceAdded) => Promise<void> {
  return async (added) => {
    if (added.caseKind !== 'goods_claim') return;
    try {
      await deps.temporal.workflow.getHandle(added.workflowId).signal(goodsClaimEvidenceAddedSignal, { fileIds: added.files.map((file) => file.id) });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      deps.logger.info({ caseNumber: added.caseNumber, workflowId: added.workflowId }, `goods claim ${added.caseNumber}: evidence added after its workflow finished; stored, nothing to check`);
    }
  };
}
