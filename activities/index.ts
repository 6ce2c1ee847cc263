import type { Logger } from 'pino';
import type { Db } from '../db';
import { createAuditActivities } from './shared/audit';
import type { Clock } from './shared/clock';
import { createDeadlineActivities } from './shared/deadlines';
import { createEmailActivities } from './shared/email';
import { createDoaClaimActivities } from './doa-claim/activities';
import { createFaultRepairActivities } from './fault-repair/activities';
import { createIncidentActivities } from './incident/activities';
import { createIncidentCloseOutActivities } from './incident-close-out/activities';
import { createGoodsClaimActivities } from './goods-claim/activities';
import { createRmaRepairActivities } from './rma-repair/activities';
import type { Mailer } from './shared/mailer';
import type { SignedLinks } from './shared/signed-links';
import { createSignOffActivities } from './sign-off/activities';
import { createRectificationSiteActivities } from './rectification/site-activities';
import { createRectificationCampaignActivities } from './rectification/campaign-activities';
import { createSparePartActivities, type WorkingDayCalendar } from './spare-part/activities';

export interface ActivityDependencies {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  links: SignedLinks;
  /** The business calendar as it is now; deadlines computed from it are recorded, never recomputed. */
  calendar: () => Promise<WorkingDayCalendar>;
  /** Told when activities committed outbox rows: the outbox relay of this process sends them at once. */
  emailsQueued?: () => void;
  /** Who the mails come from (MAIL_FROM): organiser of the calendar invitations they carry. */
  sender?: { name: string; email: string } | undefined;
  /** Where customers send DOA units and RMA parts back (RMA_RETURN_ADDRESS; its default when absent). */
  returnAddress?: string;
  /** One info line per process step (case number, step, actor role, idempotency key; never a body). */
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

type Intersection<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void ? I : never;

/** One object of every group's activities; a name defined by two groups stops the worker at start. */
export function mergeActivities<Groups extends Record<string, unknown>[]>(...groups: Groups): Intersection<Groups[number]> {
  const merged: Record<string, unknown> = {};
  for (const group of groups) {
    for (const [name, activity] of Object.entries(group)) {
      if (name in merged) throw new Error(`activity ${name} is defined twice: every activity name must be unique across processes`);
      merged[name] = activity;
    }
  }
  return merged as Intersection<Groups[number]>;
}

/** Every activity the worker registers, built from its dependencies. Workflows import only the type. */
export function createActivities(deps: ActivityDependencies) {
  return mergeActivities(createEmailActivities(deps), createAuditActivities(deps), createDeadlineActivities(deps), createSparePartActivities(deps), createSignOffActivities(deps), createFaultRepairActivities(deps), createRmaRepairActivities(deps), createDoaClaimActivities(deps), createGoodsClaimActivities(deps), createIncidentActivities(deps), createIncidentCloseOutActivities(deps), createRectificationSiteActivities(deps), createRectificationCampaignActivities(deps));
}

export type Activities = ReturnType<typeof createActivities>;
