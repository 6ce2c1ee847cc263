import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import { decideDocumentUpdate, signOffWorkflowId, STEP_DECIDERS, submitDocumentVersionUpdate } from '../../workflows/sign-off/definitions';
import { ApiError } from '../errors';
import type { ApiRoutes } from '../route';
import { optionalNote } from '../shared/schemas';
import { executeProcessUpdate } from '../shared/process-updates';
import { DOCUMENT_CONTENT } from './content';
import { documentSchema, loadDocument } from './read-model';

export interface SignOffDependencies {
  db: Db;
  temporal: Client;
  clock: Clock;
  links: SignedLinks;
}

const AUTHORS: readonly UserRole[] = ['engineer', 'senior_engineer', 'manager'];
const ANY_USER: readonly UserRole[] = [];
const documentParams = z.object({ documentId: z.uuid() });

export function registerSignOffRoutes(routes: ApiRoutes, deps: SignOffDependencies): void {
  const tag = 'Documents and sign-off';
  routes
    .add({
      method: 'get', path: '/documents/:documentId', tag, summary: 'A document: every version, every decision and comment, and where its sign-off stands', access: { roles: ANY_USER },
      params: documentParams, response: { schema: documentSchema },
      handler: async ({ params }) => loadDocument(deps.db, params.documentId),
    })
    .add({
      method: 'post', path: '/documents/:documentId/versions', tag, summary: "Submit a new version (the first, or a revision after a rejection or the customer's objection)", access: { roles: AUTHORS },
      params: documentParams,
      body: z.object({
        content: z.record(z.string(), z.unknown()).meta({ description: 'Per kind: RepairPlanContent, ServiceReportContent, or free for the others' }),
        reason: optionalNote(2000).meta({ description: 'What changed and why' }),
      }),
      response: { status: 201, schema: documentSchema }, errors: [404, 409, 422],
      handler: async ({ params, body, actor }) => {
        const document = await loadDocument(deps.db, params.documentId);
        const content = DOCUMENT_CONTENT[document.kind].safeParse(body.content);
        if (!content.success) {
          throw ApiError.validation(content.error.issues.map((issue) => ({ in: 'body', field: ['content', ...issue.path.map(String)].join('.'), message: issue.message })));
        }
        await executeProcessUpdate(deps.temporal, signOffWorkflowId(document.id), submitDocumentVersionUpdate, {
          actor: actor!.name,
          role: actor!.role,
          userId: actor!.id,
          at: deps.clock.now().toISOString(),
          content: content.data,
          reason: body.reason,
        });
        return loadDocument(deps.db, params.documentId);
      },
    })
    .add({
      method: 'post', path: '/documents/:documentId/decisions', tag, summary: 'Decide the step the current version waits for: approve, or reject with a comment (back to its author)', access: { roles: ['manager', 'senior_engineer', 'rd_reviewer'] },
      params: documentParams,
      body: z
        .object({
          version: z.number().int().min(1).max(10_000).meta({ description: 'The version decided: a superseded one is refused (409 naming the current one)' }),
          decision: z.enum(['approved', 'rejected', 'passed', 'failed']).meta({ description: 'approved/rejected for a review or approval; passed/failed for a test step' }),
          comment: optionalNote(4000),
        })
        .refine((body) => body.decision === 'approved' || body.decision === 'passed' || (body.comment ?? '').trim() !== '', { message: 'a rejection or a failed test needs a comment for the author', path: ['comment'] }),
      response: { schema: documentSchema }, errors: [403, 404, 409, 422],
      handler: async ({ params, body, actor }) => {
        const document = await loadDocument(deps.db, params.documentId);
        const step = document.waitingFor;
        if (step && !STEP_DECIDERS[step].includes(actor!.role)) {
          throw new ApiError(403, 'forbidden', `${step.replace(/_/g, ' ')} is decided by ${STEP_DECIDERS[step].join(' or ')}`, { step });
        }
        await executeProcessUpdate(deps.temporal, signOffWorkflowId(document.id), decideDocumentUpdate, {
          actor: actor!.name,
          role: actor!.role,
          at: deps.clock.now().toISOString(),
          version: body.version,
          decision: body.decision,
          comment: body.comment,
        });
        return loadDocument(deps.db, params.documentId);
      },
    });
}
