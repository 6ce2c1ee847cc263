import { z } from 'zod';
import { SIGN_DOCUMENT_ACTION } from '../../activities/sign-off/activities';
import { decideDocumentUpdate, signOffWorkflowId } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { executeProcessUpdate } from '../shared/process-updates';
import { optionalNote } from '../shared/schemas';
import { parseDocumentVersionScope, signaturePage } from './page';
import { loadDocument } from './read-model';
import type { SignOffDependencies } from './routes';

export function signOffLinkActions(deps: SignOffDependencies): LinkAction[] {
  return [
    defineLinkAction({
      action: SIGN_DOCUMENT_ACTION,
      summary: 'Sign this version of the document, or object to it with a comment (it goes back to the team and comes again)',
      body: z
        .object({ decision: z.enum(['signed', 'objected']), comment: optionalNote(4000) })
        .refine((body) => body.decision === 'signed' || (body.comment ?? '').trim() !== '', { message: 'an objection needs a comment', path: ['comment'] }),
      page: signaturePage(deps),
      perform: async ({ claims, body }) => {
        const scope = parseDocumentVersionScope(claims.caseId);
        if (!scope) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'not a document link' });
        const document = await loadDocument(deps.db, scope.documentId);
        const contact = await deps.db
          .selectFrom('documents as d')
          .innerJoin('contacts as k', 'k.id', 'd.contact_id')
          .select(['k.name'])
          .where('d.id', '=', document.id)
          .executeTakeFirst();
        await executeProcessUpdate(deps.temporal, signOffWorkflowId(document.id), decideDocumentUpdate, {
          actor: contact?.name ?? 'customer contact',
          role: 'customer',
          at: deps.clock.now().toISOString(),
          version: scope.version,
          decision: body.decision,
          comment: body.comment,
        });
        const after = await loadDocument(deps.db, document.id);
        return { documentId: after.id, caseNumber: after.caseNumber, version: scope.version, status: after.status };
      },
    }),
  ];
}
