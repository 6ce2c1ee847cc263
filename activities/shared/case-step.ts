import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import type { Locale } from '../../db/schema';
import type { CalendarInvite } from './calendar-invite';
import { auditEventInsert } from './audit';
import { outboxInsert, outboxRow } from './email';
import type { EmailContent } from './email-templates';

// The activity side of the process kit: one step of a case is one transaction that writes the
// change, its audit entry and its emails' outbox rows together, keyed so that a retried attempt
// changes nothing twice, and answers once that committed (the outbox relay sends the emails, so
// SMTP never holds a step).

/** What the step log line says: the step, who acted, and its key within the case (default: the step). */
export interface StepLabel {
  step: string;
  actorRole: string;
  key?: string;
}

/** An email a step sends: to the case's contact unless `to` names someone else. */
export interface StepEmail {
  key: string;
  content: EmailContent;
  to?: { email: string; locale: Locale };
  /** An appointment sent with it as an iCalendar invitation. */
  calendarInvite?: CalendarInvite;
}

/** What a step records in the audit trail: who, in which role, when, what, and why. */
export interface StepAudit {
  at: string;
  actor: string;
  role: string;
  action: string;
  comment?: string | null;
  data?: Record<string, unknown>;
}

/** A step's audit entry on its case, keyed `<case number>/<key>` so that a retried step writes it once. */
export function stepAuditInsert(trx: DbExecutor, ref: { caseId: string; caseNumber: string }, key: string, entry: StepAudit) {
  return auditEventInsert(trx, {
    caseId: ref.caseId,
    occurredAt: entry.at,
    actor: entry.actor,
    actorRole: entry.role,
    action: entry.action,
    comment: entry.comment ?? null,
    data: entry.data ?? {},
    idempotencyKey: `${ref.caseNumber}/${key}`,
  });
}

/** An INSERT, UPDATE or DELETE built with Kysely on the step's transaction, not executed yet. */
export interface StepWrite {
  execute(): Promise<unknown>;
}

/** What a step changes: its writes (rows, audit entry, invoice lines) commit together with its emails' outbox rows. */
export interface StepPlan<T> {
  writes: StepWrite[];
  emails?: StepEmail[];
  result: T;
}

/** How a process reads its case for a step. */
export interface CaseStepSource<Row, LoadOptions> {
  /** The process's prefix of every outbox key, e.g. `spare-part`. */
  process: string;
  /** The row a step works on (the case's, or a document's) with what its steps need, read inside the step's transaction. */
  load(trx: DbExecutor, id: string, options: LoadOptions | undefined): Promise<Row>;
  caseId(row: Row): string;
  caseNumber(row: Row): string;
  /** Who a step's emails go to unless they name someone. */
  contact(row: Row): { email: string; locale: Locale };
}

/** Builds the step runner of one process: `step(caseId, label, plan, loadOptions)`. */
export function createCaseStepRunner<Row, LoadOptions = undefined>(
  deps: { db: Db; logger: Pick<Logger, 'info'>; emailsQueued?: (() => void) | undefined },
  source: CaseStepSource<Row, LoadOptions>,
) {
  return async function step<T>(id: string, label: StepLabel, plan: (row: Row, trx: DbExecutor) => Promise<StepPlan<T>>, options?: LoadOptions): Promise<T> {
    const { result, queued, caseNumber } = await deps.db.transaction().execute(async (trx) => {
      const row = await source.load(trx, id, options);
      const caseId = source.caseId(row);
      const number = source.caseNumber(row);
      const { writes, emails = [], result } = await plan(row, trx);
      for (const write of writes) await write.execute();
      const rows = emails.map(({ key, content, to, calendarInvite }) =>
        outboxRow({ ...content, idempotencyKey: `${source.process}/${number}/${key}`, caseId, to: to ?? source.contact(row), calendarInvite }),
      );
      if (rows.length > 0) await outboxInsert(trx, rows).execute();
      return { result, queued: rows.length, caseNumber: number };
    });
    if (queued > 0) deps.emailsQueued?.();
    deps.logger.info(
      { caseNumber, step: label.step, actorRole: label.actorRole, idempotencyKey: `${caseNumber}/${label.key ?? label.step}`, emailsQueued: queued },
      `${source.process.replace(/-/g, ' ')} ${caseNumber}: ${label.step}`,
    );
    return result;
  };
}
