import type { Client } from '@temporalio/client';
import type { Db } from '../db';
import type { LinkAction } from './routes/links';

/** The customer actions each process offers through signed links. */
export function processLinkActions(_deps: { db: Db; temporal: Client }): LinkAction[] {
  return [];
}
