import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { highRiskOperationsIn } from '../../workflows/rules/high-risk';
import { BUSINESS_RULE_VIOLATION, type ActorStamp } from '../../workflows/shared/definitions';
import { STEP_DECIDERS, type DecisionSubmission, type SignOffStatus, type SignOffStep, type VersionSubmission } from '../../workflows/sign-off/definitions';
import { auditEventInsert } from '../shared/audit';
import { createCaseStepRunner, type StepEmail } from '../shared/case-step';
import type { SignedLinks } from '../shared/signed-links';

/** The signed-link action of a customer's signature on one version of one document. */
export const SIGN_DOCUMENT_ACTION = 'document.sign';
export const SIGNATURE_LINK_TTL_HOURS = 24 * 14;

/** The subject a signature link is scoped to: one version of one document. */
export function documentVersionScope(documentId: string, version: number): string {
  return `document:${documentId}:v${version}`;
}

export interface SignOffActivityDependencies {
  db: Db;
  links: SignedLinks;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

async function documentRow(executor: DbExecutor, documentId: string) {
  const row = await executor
    .selectFrom('documents as d')
    .innerJoin('cases as c', 'c.id', 'd.case_id')
    .leftJoin('contacts as k', 'k.id', 'd.contact_id')
    .select(['d.id', 'd.case_id', 'd.kind', 'd.title', 'd.steps', 'c.number as case_number', 'k.email as contact_email', 'k.locale as contact_locale', 'k.name as contact_name'])
    .where('d.id', '=', documentId)
    .executeTakeFirst();
  if (!row) throw ApplicationFailure.nonRetryable(`no document ${documentId}`, BUSINESS_RULE_VIOLATION);
  return row;
}
type DocumentRow = Awaited<ReturnType<typeof documentRow>>;

/** The high-risk operations a version of a document lists (repair plans), by their codes. */
export async function highRiskOperationsOf(executor: DbExecutor, documentId: string, version: number): Promise<string[]> {
  const row = await executor.selectFrom('document_versions').select('content').where('document_id', '=', documentId).where('version', '=', version).executeTakeFirst();
  return highRiskOperationsIn(row?.content);
}

export function createSignOffActivities({ db, links, emailsQueued, logger }: SignOffActivityDependencies) {
  const documentStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'document',
      load: (trx, documentId) => documentRow(trx, documentId),
      caseId: (document) => document.case_id,
      caseNumber: (document) => document.case_number,
      contact: (document) => {
        if (!document.contact_email || !document.contact_locale) throw ApplicationFailure.nonRetryable(`document ${document.id} has no customer contact`, BUSINESS_RULE_VIOLATION);
        return { email: document.contact_email, locale: document.contact_locale };
      },
    },
  );

  /** Who is asked to decide `step` on `version`: the customer by a signed link, staff by role. */
  async function decisionRequests(trx: DbExecutor, document: DocumentRow, version: number, step: SignOffStep): Promise<StepEmail[]> {
    const key = `${document.id}/v${version}/${step}-requested`;
    const params = { caseNumber: document.case_number, title: document.title, version, step };
    if (step === 'customer_signature') {
      // Not single-use: the workflow takes one decision per version and refuses a second (409), and a link
      // to a superseded version must still open, to say so and point to the newer one.
      const link = links.issue({ caseId: documentVersionScope(document.id, version), action: SIGN_DOCUMENT_ACTION, singleUse: false, ttlHours: SIGNATURE_LINK_TTL_HOURS });
      return [{ key, content: { template: 'document_signature_requested', params: { ...params, customerName: document.contact_name ?? '', signUrl: link.url, expiresOn: link.expiresAt.toISOString() } } }];
    }
    const deciders = await trx
      .selectFrom('users')
      .select(['id', 'email'])
      .where('role', 'in', STEP_DECIDERS[step].filter((role) => role !== 'customer') as never[])
      .where('disabled_at', 'is', null)
      .orderBy('email')
      .execute();
    return deciders.map((user) => ({ key: `${key}/${user.id}`, content: { template: 'document_decision_requested', params }, to: { email: user.email, locale: 'zh-CN' as const } }));
  }

  /** The version's author is told it came back, with the comment. */
  async function returnedToAuthor(trx: DbExecutor, document: DocumentRow, version: number, step: SignOffStep, decision: DecisionSubmission): Promise<StepEmail[]> {
    const author = await trx
      .selectFrom('document_versions as v')
      .innerJoin('users as u', 'u.id', 'v.submitted_by_user_id')
      .select(['u.email'])
      .where('v.document_id', '=', document.id)
      .where('v.version', '=', version)
      .executeTakeFirst();
    if (!author) return [];
    return [
      {
        key: `${document.id}/v${version}/returned`,
        content: { template: 'document_returned', params: { caseNumber: document.case_number, title: document.title, version, step, decidedBy: decision.actor, comment: decision.comment ?? '' } },
        to: { email: author.email, locale: 'zh-CN' },
      },
    ];
  }

  return {
    /** Records a new version (immutable) and asks the first step's deciders. */
    async recordDocumentVersion(input: { documentId: string; caseId: string; version: number; submission: VersionSubmission; firstStep: SignOffStep }): Promise<void> {
      const { submission } = input;
      await documentStep(input.documentId, { step: 'document-version-submitted', actorRole: submission.role, key: `${input.documentId}/v${input.version}` }, async (document, trx) => ({
        writes: [
          trx
            .insertInto('document_versions')
            .values({
              document_id: document.id,
              version: input.version,
              content: JSON.stringify(submission.content),
              reason: submission.reason,
              submitted_by: submission.actor,
              submitted_by_role: submission.role,
              submitted_by_user_id: submission.userId ?? null,
              submitted_at: submission.at,
            })
            .onConflict((oc) => oc.columns(['document_id', 'version']).doNothing()),
          auditEventInsert(trx, {
            caseId: document.case_id,
            occurredAt: submission.at,
            actor: submission.actor,
            actorRole: submission.role,
            action: 'document.version_submitted',
            comment: submission.reason,
            data: { documentId: document.id, kind: document.kind, version: input.version },
            idempotencyKey: `document/${document.id}/v${input.version}/submitted`,
          }),
        ],
        emails: await decisionRequests(trx, document, input.version, input.firstStep),
        result: undefined,
      }));
    },

    /** Records a decision on a step (one per step of a version) and asks the next step, tells the author, or tells both sides it is signed. */
    async recordDocumentDecision(input: { documentId: string; caseId: string; step: SignOffStep; decision: DecisionSubmission; nextStep: SignOffStep | null; status: SignOffStatus }): Promise<void> {
      const { decision, step } = input;
      await documentStep(input.documentId, { step: `document-${decision.decision}`, actorRole: decision.role, key: `${input.documentId}/v${decision.version}/${step}` }, async (document, trx) => {
        let emails: StepEmail[] = [];
        if (input.nextStep) emails = await decisionRequests(trx, document, decision.version, input.nextStep);
        else if (input.status === 'returned') emails = await returnedToAuthor(trx, document, decision.version, step, decision);
        // The manager's approval of a version authorises, by name, the high-risk operations it lists.
        const authorised = step === 'manager_approval' && decision.decision === 'approved' ? await highRiskOperationsOf(trx, document.id, decision.version) : [];
        return {
          writes: [
            trx
              .insertInto('document_decisions')
              .values({
                document_id: document.id,
                version: decision.version,
                step,
                decision: decision.decision,
                comment: decision.comment,
                decided_by: decision.actor,
                decided_by_role: decision.role,
                decided_at: decision.at,
              })
              .onConflict((oc) => oc.columns(['document_id', 'version', 'step']).doNothing()),
            auditEventInsert(trx, {
              caseId: document.case_id,
              occurredAt: decision.at,
              actor: decision.actor,
              actorRole: decision.role,
              action: `document.${decision.decision}`,
              comment: decision.comment,
              data: { documentId: document.id, kind: document.kind, version: decision.version, step, ...(authorised.length > 0 ? { authorisedHighRiskOperations: authorised } : {}) },
              idempotencyKey: `document/${document.id}/v${decision.version}/${step}`,
            }),
          ],
          emails,
          result: undefined,
        };
      });
    },

    async recordDocumentWithdrawn(input: { documentId: string; caseId: string; stamp: ActorStamp & { reason: string } }): Promise<void> {
      const { stamp } = input;
      await documentStep(input.documentId, { step: 'document-withdrawn', actorRole: stamp.role }, async (document, trx) => {
        const latest = await trx.selectFrom('document_versions').select((eb) => eb.fn.max('version').as('version')).where('document_id', '=', document.id).executeTakeFirst();
        const version = Number(latest?.version ?? 0);
        return {
          writes: [
            trx
              .insertInto('document_decisions')
              .values({ document_id: document.id, version, step: 'withdrawal', decision: 'withdrawn', comment: stamp.reason, decided_by: stamp.actor, decided_by_role: stamp.role, decided_at: stamp.at })
              .onConflict((oc) => oc.columns(['document_id', 'version', 'step']).doNothing()),
          ],
          result: undefined,
        };
      });
    },
  };
}
