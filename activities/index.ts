import type { Logger } from 'pino';
import type { Db } from '../db';
import { createAuditActivities } from './audit';
import type { Clock } from './clock';
import { createDeadlineActivities } from './deadlines';
import { createEmailActivities } from './email';
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
  /** Told when activities committed outbox rows: the outbox relay of this process sends them at once. */
  emailsQueued?: () => void;
  /** One info line per process step (case number, step, actor role, idempotency key; never a body). */
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** Every activity the worker registers, built from its dependencies. Workflows import only the type. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createEmailActivities(deps),
    ...createAuditActivities(deps),
    ...createDeadlineActivities(deps),
    ...createSparePartActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
