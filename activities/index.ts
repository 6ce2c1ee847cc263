import type { Db } from '../db';
import { createAuditActivities } from './audit';
import type { Clock } from './clock';
import { createDeadlineActivities } from './deadlines';
import { createEmailActivities, createEmailOutbox } from './email';
import type { Mailer } from './mailer';
import type { SignedLinks } from './signed-links';
import { createSparePartActivities, type WorkingDayCalendar } from './spare-parts';

export interface ActivityDependencies {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  links: SignedLinks;
  /** The business calendar as it is now; deadlines computed from it are recorded, never recomputed. */
  calendar: () => Promise<WorkingDayCalendar>;
}

/** Every activity the worker registers, built from its dependencies. Workflows import only the type. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createEmailActivities(deps),
    ...createAuditActivities(deps),
    ...createDeadlineActivities(deps),
    ...createSparePartActivities({ ...deps, outbox: createEmailOutbox(deps) }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
