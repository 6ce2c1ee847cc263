import { executeProcessUpdate } from '../shared/process-updates';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { type ActorStamp } from '../../workflows/shared/definitions';
import { sparePartWorkflowId, type SparePartLoanState } from '../../workflows/spare-part/definitions';
import type { Actor } from '../auth';
import { loadLoan, type LoanDto } from './read-model';

export interface SparePartDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  links: SignedLinks;
  clock: Clock;
}

export function stamp(actor: Actor, clock: Clock): ActorStamp {
  return { actor: actor.name, role: actor.role, at: clock.now().toISOString() };
}

export async function update<Arg>(deps: SparePartDependencies, loanNumber: string, definition: UpdateDefinition<SparePartLoanState, [Arg]>, arg: Arg): Promise<LoanDto> {
  await loadLoan(deps.db, loanNumber, false);
  await executeProcessUpdate(deps.temporal, sparePartWorkflowId(loanNumber), definition, arg);
  return loadLoan(deps.db, loanNumber);
}

