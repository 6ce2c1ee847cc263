import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinkClaims } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import type { CaseKind, UserRole } from '../../db/schema';
import { ApiError } from '../errors';
import type { ApiRoutes } from '../route';
import type { LinkService } from '../routes/links';
import type { UploadedFile } from '../shared/multipart';
import {
  EVIDENCE_MULTIPART,
  MAX_EVIDENCE_FILES_PER_CASE,
  evidenceFileSchema,
  evidenceListSchema,
  evidenceUploadFieldsSchema,
  findEvidenceBytes,
  findEvidenceCaseById,
  findEvidenceCaseByNumber,
  linkEvidenceUrls,
  listEvidence,
  prepareEvidence,
  staffEvidenceUrls,
  storeEvidence,
  toEvidenceDto,
  type EvidenceCase,
  type EvidenceRecord,
  type EvidenceUploader,
  type StoredEvidence,
} from './store';

/** Told after an upload's transaction committed, with the files it added (none for a repeat of stored bytes). */
export type EvidenceListener = (added: {
  caseId: string;
  caseKind: CaseKind;
  caseNumber: string;
  workflowId: string;
  files: { id: string; item: string | null }[];
}) => Promise<void>;

export const EVIDENCE_UPLOAD_ROLES = ['service_desk', 'manager', 'engineer', 'senior_engineer', 'admin'] as const satisfies readonly UserRole[];
export const EVIDENCE_READ_ROLES = [...EVIDENCE_UPLOAD_ROLES, 'rd_reviewer', 'billing'] as const satisfies readonly UserRole[];

export interface EvidenceDependencies {
  db: Db;
  linkService: LinkService;
  /** Called in order after each upload that added files; a failing one is logged, never fails the upload. */
  listeners: readonly EvidenceListener[];
  clock: Clock;
  logger: Logger;
}

/** What the routes and the customer pages do with evidence (api/pages/customer-pages.ts uses it for the upload widget). */
export interface EvidenceService {
  /** The case a link gives evidence access to, and who its holder is; 401 when the link's action gives none, 410 once a single-use link was used. */
  linkAccess(claims: SignedLinkClaims): Promise<{ evidenceCase: EvidenceCase; uploader: EvidenceUploader }>;
  /** Checks, stores (one transaction) and tells the listeners. */
  upload(input: { evidenceCase: EvidenceCase; item: string | null; files: readonly UploadedFile[]; uploader: EvidenceUploader }): Promise<StoredEvidence>;
  list(caseId: string): Promise<EvidenceRecord[]>;
}

const caseParams = z.object({ caseNumber: z.string().min(1).max(64) });
const linkParams = z.object({ token: z.string().min(1).max(2048) });
const fileParams = z.object({ id: z.uuid() });
const linkFileParams = linkParams.extend({ id: z.uuid() });
const uploadAnswerSchema = z.object({ caseNumber: z.string(), files: z.array(evidenceFileSchema) }).meta({ id: 'EvidenceUpload' });

const MULTIPART = {
  ...EVIDENCE_MULTIPART,
  fileDescription: `The files (repeat the field): JPEG, PNG, WebP or PDF judged by their bytes, at most 10 MB each and ${MAX_EVIDENCE_FILES_PER_CASE} a case`,
};
const UPLOAD_ERRORS = [404, 409, 413, 415, 422];
const UPLOAD_ERROR_DESCRIPTIONS = {
  413: 'A file is larger than 10 MB (the error names it: `files[i]` and its name), or the request carries more than 31 files',
  415: 'A file is not JPEG, PNG, WebP or PDF by its bytes (the error names it and what its bytes are), or the body is not multipart/form-data',
  422: 'A file would be the 31st of the case, or is empty or an unreadable image (named); or the Idempotency-Key was used for another request',
};
const DOWNLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'];

const staffUploader = (actor: { name: string; role: string } | undefined): EvidenceUploader => {
  if (!actor) throw new ApiError(401, 'unauthenticated', 'An API token is required: send "Authorization: Bearer <token>"');
  return { name: actor.name, role: actor.role };
};

/** Sends a file (attachment, as the type its bytes are) or a thumbnail (inline WebP); 304 when the client's copy is current. */
function sendBytes(res: Response, record: EvidenceRecord, bytes: Buffer, which: 'content' | 'thumbnail'): void {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'private, no-cache',
    'Referrer-Policy': 'no-referrer',
    ETag: which === 'content' ? `"${record.sha256}"` : `"${record.sha256}-thumbnail"`,
  });
  if (which === 'content') {
    // Content-Disposition with an RFC 5987 `filename*` for names beyond ASCII (e.g. Chinese).
    res.attachment(record.fileName);
    res.set('Content-Type', record.sniffedType);
  } else {
    res.set('Content-Type', 'image/webp');
  }
  // Express answers 304 itself when If-None-Match matches the ETag.
  res.status(200).send(bytes);
}

async function download(deps: EvidenceDependencies, res: Response, id: string, which: 'content' | 'thumbnail', mayRead: (record: EvidenceRecord) => boolean): Promise<void> {
  const found = await findEvidenceBytes(deps.db, id, which);
  if (!found || !mayRead(found.record)) throw ApiError.notFound('Evidence file', id);
  if (!found.bytes) throw new ApiError(404, 'no_thumbnail', `Evidence file ${id} is a PDF and has no thumbnail`, { id });
  sendBytes(res, found.record, found.bytes, which);
}

export function createEvidenceService(deps: EvidenceDependencies): EvidenceService {
  return {
    async linkAccess(claims) {
      const action = deps.linkService.actionFor(claims);
      if (!action.evidence) throw new ApiError(401, 'link_invalid', 'This link is not valid for evidence', { reason: 'the link does not give access to evidence' });
      if (claims.singleUse && (await deps.linkService.isUsed(claims))) throw new ApiError(410, 'link_used', 'This link has already been used');
      const evidenceCase = await findEvidenceCaseById(deps.db, claims.caseId);
      if (!evidenceCase) throw new ApiError(401, 'link_invalid', 'This link is not valid for evidence', { reason: 'no case for the link' });
      return { evidenceCase, uploader: { name: await action.evidence.uploader(claims), role: 'customer' } };
    },

    async upload({ evidenceCase, item, files, uploader }) {
      const prepared = await prepareEvidence(files);
      const stored = await storeEvidence(deps.db, { case: evidenceCase, item, files: prepared, uploader, at: deps.clock.now() });
      if (stored.added.length > 0) {
        const added = {
          caseId: evidenceCase.id,
          caseKind: evidenceCase.kind,
          caseNumber: evidenceCase.number,
          workflowId: evidenceCase.workflowId,
          files: stored.added.map((file) => ({ id: file.id, item: file.item })),
        };
        for (const listener of deps.listeners) {
          try {
            await listener(added);
          } catch (error) {
            deps.logger.error({ err: error, caseNumber: evidenceCase.number, evidenceIds: added.files.map((file) => file.id) }, 'an evidence listener failed; the upload is stored');
          }
        }
      }
      return stored;
    },

    list: (caseId) => listEvidence(deps.db, caseId),
  };
}

/** The evidence API: staff by bearer token, customers through a signed link whose action declares `evidence`. Returns the service the customer pages use. */
export function registerEvidenceRoutes(routes: ApiRoutes, deps: EvidenceDependencies): EvidenceService {
  const service = createEvidenceService(deps);
  const caseByNumber = async (caseNumber: string) => {
    const found = await findEvidenceCaseByNumber(deps.db, caseNumber);
    if (!found) throw ApiError.notFound('Case', caseNumber);
    return found;
  };
  const linkClaims = (req: Request) => {
    const claims = deps.linkService.verify(String(req.params.token));
    if (!deps.linkService.actionFor(claims).evidence) {
      throw new ApiError(401, 'link_invalid', 'This link is not valid for evidence', { reason: 'the link does not give access to evidence' });
    }
    return claims;
  };

  routes
    .add({
      method: 'post', path: '/cases/:caseNumber/evidence', tag: 'Evidence', summary: 'Upload evidence files to a case (multipart/form-data; all stored or none)',
      access: { roles: EVIDENCE_UPLOAD_ROLES }, params: caseParams, body: evidenceUploadFieldsSchema, multipart: MULTIPART,
      response: { status: 201, schema: uploadAnswerSchema, description: 'Every file of the request as stored; bytes the case already holds answer the row stored before' },
      errors: UPLOAD_ERRORS, errorDescriptions: UPLOAD_ERROR_DESCRIPTIONS,
      handler: async ({ params, body, files, actor }) => {
        const evidenceCase = await caseByNumber(params.caseNumber);
        const stored = await service.upload({ evidenceCase, item: body.item, files, uploader: staffUploader(actor) });
        return { caseNumber: evidenceCase.number, files: stored.files.map((file) => toEvidenceDto(file, staffEvidenceUrls)) };
      },
    })
    .add({
      method: 'get', path: '/cases/:caseNumber/evidence', tag: 'Evidence', summary: 'The evidence files of a case, oldest first',
      access: { roles: EVIDENCE_READ_ROLES }, params: caseParams, response: { schema: evidenceListSchema }, errors: [404],
      handler: async ({ params }) => {
        const evidenceCase = await caseByNumber(params.caseNumber);
        const files = await service.list(evidenceCase.id);
        return { caseNumber: evidenceCase.number, files: files.map((file) => toEvidenceDto(file, staffEvidenceUrls)), maxFiles: MAX_EVIDENCE_FILES_PER_CASE };
      },
    })
    .add({
      method: 'get', path: '/evidence/:id', tag: 'Evidence', summary: 'Download an evidence file (served as the type its bytes are, as an attachment)',
      access: { roles: EVIDENCE_READ_ROLES }, params: fileParams, errors: [404],
      response: { schema: z.unknown(), mediaTypes: DOWNLOAD_TYPES, description: 'The file; ETag is its sha256' },
      handler: async ({ params, res }) => download(deps, res, params.id, 'content', () => true),
    })
    .add({
      method: 'get', path: '/evidence/:id/thumbnail', tag: 'Evidence', summary: 'The thumbnail of an evidence image (WebP); 404 for a PDF',
      access: { roles: EVIDENCE_READ_ROLES }, params: fileParams, errors: [404],
      response: { schema: z.unknown(), mediaTypes: ['image/webp'], description: 'A WebP that fits in 240 x 240 px' },
      handler: async ({ params, res }) => download(deps, res, params.id, 'thumbnail', () => true),
    })
    .add({
      method: 'post', path: '/links/:token/evidence', tag: 'Customer links', summary: "Upload evidence to the link's case (multipart/form-data; all stored or none)",
      access: 'public',
      // The link (and that its action gives evidence access) is checked before the body is read; its case scopes Idempotency-Keys.
      principal: (req) => `link:${linkClaims(req).caseId}`,
      params: linkParams, body: evidenceUploadFieldsSchema, multipart: MULTIPART,
      response: { status: 201, schema: uploadAnswerSchema, description: 'Every file of the request as stored' },
      errors: [401, 410, ...UPLOAD_ERRORS], errorDescriptions: UPLOAD_ERROR_DESCRIPTIONS,
      handler: async ({ params, body, files, req }) => {
        // A page's own script sends it same-origin; another site has no business uploading through a visitor's link.
        if (req.get('sec-fetch-site') === 'cross-site') throw new ApiError(403, 'cross_site_refused', 'Uploads through a link must come from its own page or an API client');
        const { evidenceCase, uploader } = await service.linkAccess(linkClaims(req));
        const stored = await service.upload({ evidenceCase, item: body.item, files, uploader });
        const urls = linkEvidenceUrls(params.token);
        return { caseNumber: evidenceCase.number, files: stored.files.map((file) => toEvidenceDto(file, urls)) };
      },
    })
    .add({
      method: 'get', path: '/links/:token/evidence', tag: 'Customer links', summary: "The evidence files of the link's case", access: 'public',
      params: linkParams, response: { schema: evidenceListSchema }, errors: [401, 410],
      handler: async ({ params, req }) => {
        const { evidenceCase } = await service.linkAccess(linkClaims(req));
        const files = await service.list(evidenceCase.id);
        const urls = linkEvidenceUrls(params.token);
        return { caseNumber: evidenceCase.number, files: files.map((file) => toEvidenceDto(file, urls)), maxFiles: MAX_EVIDENCE_FILES_PER_CASE };
      },
    })
    .add({
      method: 'get', path: '/links/:token/evidence/:id', tag: 'Customer links', summary: "Download an evidence file of the link's case", access: 'public',
      params: linkFileParams, errors: [401, 404, 410],
      response: { schema: z.unknown(), mediaTypes: DOWNLOAD_TYPES, description: 'The file; ETag is its sha256' },
      handler: async ({ params, req, res }) => {
        const { evidenceCase } = await service.linkAccess(linkClaims(req));
        return download(deps, res, params.id, 'content', (record) => record.caseId === evidenceCase.id);
      },
    })
    .add({
      method: 'get', path: '/links/:token/evidence/:id/thumbnail', tag: 'Customer links', summary: "The thumbnail of an evidence image of the link's case (WebP)", access: 'public',
      params: linkFileParams, errors: [401, 404, 410],
      response: { schema: z.unknown(), mediaTypes: ['image/webp'], description: 'A WebP that fits in 240 x 240 px' },
      handler: async ({ params, req, res }) => {
        const { evidenceCase } = await service.linkAccess(linkClaims(req));
        return download(deps, res, params.id, 'thumbnail', (record) => record.caseId === evidenceCase.id);
      },
    });
  return service;
}
