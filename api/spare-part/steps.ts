import { updateCase } from '../shared/process-updates';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { sparePartWorkflowId, type SparePartLoanState } from '../../workflows/spare-part/definitions';
import { loadLoan, type LoanDto } from './read-model';

export interface SparePartDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  links: SignedLinks;
  clock: Clock;
}

export { actorStamp as stamp } from '../shared/process-updates';

export async function update<Arg>(deps: SparePartDependencies, loanNumber: string, definition: UpdateDefinition<SparePartLoanState, [Arg]>, arg: Arg): Promise<LoanDto> {
  return updateCase(deps.temporal, (withTimeline) => loadLoan(deps.db, loanNumber, withTimeline), sparePartWorkflowId(loanNumber), definition, arg);
}

