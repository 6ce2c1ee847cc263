import type { Db } from '../db';
import { createAuditActivities } from './audit';
import type { Clock } from './clock';
import { createEmailActivities } from './email';
import type { Mailer } from './mailer';
import type { SignedLinks } from './signed-links';

export interface ActivityDependencies {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  links: SignedLinks;
}

/** Every activity the worker registers, built from its dependencies. Workflows import only the type. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createEmailActivities(deps),
    ...createAuditActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
