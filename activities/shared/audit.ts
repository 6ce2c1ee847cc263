import type { Db, DbExecutor } from '../../db';

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

/** The insert of an audit entry, not executed: a step runs it together with the change it records. */
export function auditEventInsert(db: DbExecutor, entry: AuditEntry) {
  return db
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
    .onConflict((oc) => oc.column('idempotency_key').doNothing());
}

export async function appendAuditEvent(db: DbExecutor, entry: AuditEntry): Promise<void> {
  await auditEventInsert(db, entry).execute();
}

export function createAuditActivities({ db }: { db: Db }) {
  return {
    async recordAudit(entry: AuditEntry): Promise<void> {
      await appendAuditEvent(db, entry);
    },
  };
}
