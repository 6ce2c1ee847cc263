import type { Db } from '../db';

export interface AuditEntry {
  caseId: string | null;
  /** When the person (or the system) acted: from the request or the workflow, not from the retry. */
  occurredAt: string;
  actor: string;
  actorRole: string;
  action: string;
  comment?: string | null;
  data?: Record<string, unknown>;
  /** Makes the entry retry-safe: the same key is written once. */
  idempotencyKey: string;
}

export async function appendAuditEvent(db: Db, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      case_id: entry.caseId,
      occurred_at: entry.occurredAt,
      actor: entry.actor,
      actor_role: entry.actorRole,
      action: entry.action,
      comment: entry.comment ?? null,
      data: JSON.stringify(entry.data ?? {}),
      idempotency_key: entry.idempotencyKey,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

export function createAuditActivities({ db }: { db: Db }) {
  return {
    async recordAudit(entry: AuditEntry): Promise<void> {
      await appendAuditEvent(db, entry);
    },
  };
}
