import { z } from 'zod';
import type { Db } from '../../db';
import { SignedLinkError, type SignedLinkClaims, type SignedLinks } from '../../activities/shared/signed-links';
import { ApiError } from '../errors';
import type { LinkPage } from '../pages/link-page';
import type { ApiRoutes } from '../route';

/** Something a customer can do through an emailed link, e.g. confirm receipt of a part. */
export interface LinkAction<B extends z.ZodType = z.ZodType> {
  action: string;
  summary: string;
  body: B;
  perform(input: { claims: SignedLinkClaims; body: z.output<B> }): Promise<Record<string, unknown>>;
  /** The page a browser gets for this link (api/pages): what is asked and a form that performs the action. */
  page?: LinkPage;
  /**
   * Present when the link's holders may upload and download the evidence of the link's case
   * (claims.caseId) through `/links/:token/evidence` (api/evidence/routes.ts); the page then shows
   * the upload widget when its view asks for evidence.
   */
  evidence?: EvidenceLinkAccess;
}

/** What a link that gives access to evidence says about its holder. */
export interface EvidenceLinkAccess {
  /** Who uploads through the link (the contact the claim's link was sent to), recorded with role `customer`. */
  uploader(claims: SignedLinkClaims): Promise<string>;
}

export function defineLinkAction<B extends z.ZodType>(action: LinkAction<B>): LinkAction {
  return action;
}

const linkParams = z.object({ token: z.string().min(1).max(2048) });

const linkDescriptionSchema = z
  .object({
    caseId: z.string(),
    caseNumber: z.string().nullable(),
    action: z.string(),
    summary: z.string(),
    expiresAt: z.string(),
    singleUse: z.boolean(),
    used: z.boolean(),
  })
  .meta({ id: 'SignedLink' });

export function verifyOrThrow(links: SignedLinks, token: string): SignedLinkClaims {
  try {
    return links.verify(token);
  } catch (error) {
    if (!(error instanceof SignedLinkError)) throw error;
    if (error.reason === 'expired') throw new ApiError(410, 'link_expired', 'This link has expired; ask us for a new one');
    throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: error.reason });
  }
}

/** What the JSON routes and the customer pages share: the action a link names, whether it was used, and acting through it. */
export interface LinkService {
  verify(token: string): SignedLinkClaims;
  actionFor(claims: SignedLinkClaims): LinkAction;
  isUsed(claims: SignedLinkClaims): Promise<boolean>;
  /** Validates the body against the action's schema (400 naming each field), reserves a single-use link (410 once used), performs. */
  perform(claims: SignedLinkClaims, action: LinkAction, body: unknown): Promise<Record<string, unknown>>;
}

export function createLinkService(deps: { db: Db; links: SignedLinks; actions: readonly LinkAction[] }): LinkService {
  const actions = new Map(deps.actions.map((action) => [action.action, action]));
  return {
    verify: (token) => verifyOrThrow(deps.links, token),
    actionFor(claims) {
      const action = actions.get(claims.action);
      if (!action) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'unknown action' });
      return action;
    },
    async isUsed(claims) {
      return (await deps.db.selectFrom('signed_link_uses').select('token_id').where('token_id', '=', claims.jti).executeTakeFirst()) !== undefined;
    },
    async perform(claims, action, body) {
      const parsed = action.body.safeParse(body ?? {});
      if (!parsed.success) {
        throw ApiError.validation(parsed.error.issues.map((issue) => ({ in: 'body', field: issue.path.map(String).join('.') || '(root)', message: issue.message })));
      }
      if (!claims.singleUse) return action.perform({ claims, body: parsed.data });

      // Reserve the token first so two concurrent uses cannot both act; release it if the action fails.
      const reserved = await deps.db
        .insertInto('signed_link_uses')
        .values({ token_id: claims.jti, case_id: claims.caseId, action: claims.action, used_at: new Date() })
        .onConflict((oc) => oc.column('token_id').doNothing())
        .returning('token_id')
        .executeTakeFirst();
      if (!reserved) throw new ApiError(410, 'link_used', 'This link has already been used');
      try {
        return await action.perform({ claims, body: parsed.data });
      } catch (error) {
        await deps.db.deleteFrom('signed_link_uses').where('token_id', '=', claims.jti).execute();
        throw error;
      }
    },
  };
}

/** The JSON API of customer links; returns the service the customer pages (api/pages) act through. */
export function registerLinkRoutes(routes: ApiRoutes, deps: { db: Db; links: SignedLinks; actions: readonly LinkAction[] }): LinkService {
  const service = createLinkService(deps);

  routes
    .add({
      method: 'get', path: '/links/:token', tag: 'Customer links', summary: 'What a signed link lets its holder do', access: 'public',
      params: linkParams, response: { schema: linkDescriptionSchema }, errors: [401, 410],
      handler: async ({ params }) => {
        const claims = service.verify(params.token);
        const action = service.actionFor(claims);
        const found = z.uuid().safeParse(claims.caseId).success
          ? await deps.db.selectFrom('cases').select('number').where('id', '=', claims.caseId).executeTakeFirst()
          : undefined;
        return {
          caseId: claims.caseId,
          caseNumber: found?.number ?? null,
          action: claims.action,
          summary: action.summary,
          expiresAt: new Date(claims.exp * 1000).toISOString(),
          singleUse: claims.singleUse,
          used: claims.singleUse && (await service.isUsed(claims)),
        };
      },
    })
    .add({
      method: 'post', path: '/links/:token', tag: 'Customer links', summary: 'Act through a signed link (the body depends on the action)', access: 'public',
      // The link is checked before the body is read; its subject (the case or contact) scopes Idempotency-Keys.
      principal: (req) => `link:${service.verify(String(req.params.token)).caseId}`,
      params: linkParams,
      body: z.unknown().meta({ description: `Depends on the action: ${deps.actions.map((action) => action.action).join(', ') || 'none registered'}` }),
      response: { schema: z.record(z.string(), z.unknown()) }, errors: [401, 409, 410],
      handler: async ({ params, body }) => {
        const claims = service.verify(params.token);
        return service.perform(claims, service.actionFor(claims), body);
      },
    });
  return service;
}
