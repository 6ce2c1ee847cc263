import { createHash } from 'node:crypto';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db';
import type { UserRole } from '../db/schema';
import { requireActor, type Actor } from './auth';
import { ApiError, errorBodySchema, zodProblems, type FieldProblem } from './errors';
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyHeadersSchema, idempotentRequests } from './shared/idempotency';
import { refuseDeepJson } from './shared/hardening';
import { createMultipartReader, type MultipartBody, type MultipartOptions, type UploadedFile } from './shared/multipart';
import { decimalInteger } from './shared/schemas';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: a role list (bearer token), any signed-in user (`[]`), or anyone. */
export type RouteMethod = Method;

export type Access = { roles: readonly UserRole[] } | 'public';

type AnyObject = z.ZodType<Record<string, unknown>>;

/** One declared route, as the route table lists it (for tests and the console to enumerate). */
export interface RouteEntry {
  readonly method: Method;
  /** Express-style path, e.g. `/customers/:id`. */
  readonly path: string;
  readonly access: Access;
  /** The route reads a request body (JSON, or multipart when `spec.multipart` is set). */
  readonly takesBody: boolean;
  readonly spec: Readonly<RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType>>;
}

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** Express-style path, e.g. `/customers/:id`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  response: {
    status?: number;
    schema: R;
    description?: string;
    /** A download: the handler sends the bytes itself (one of these media types) instead of JSON. */
    mediaTypes?: readonly string[];
  };
  /** Error statuses this route may answer besides 400/401/403, for the document. */
  errors?: number[];
  /** What an error status means on this route, where it differs from the general meaning. */
  errorDescriptions?: Partial<Record<number, string>>;
  /**
   * The body is multipart/form-data (file uploads) rather than JSON: read after authentication, its
   * text fields validated by `body`, its files handed to the handler as `files`.
   */
  multipart?: MultipartOptions & { fileDescription: string };
  /**
   * A public route whose caller proves who they are otherwise (a signed link): returns that principal
   * or throws (401, 410). It runs before the body is read, and scopes the caller's Idempotency-Keys.
   */
  principal?: (req: Request) => string;
  /** A POST that only computes an answer and changes nothing: it takes no Idempotency-Key. */
  readOnly?: boolean;
  handler: (input: {
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
    /** The files of a multipart body, in the order sent; empty for other routes. */
    files: UploadedFile[];
    actor: Actor | undefined;
    req: Request;
    res: Response;
  }) => Promise<z.input<R>>;
}

const errorDescriptions: Record<number, string> = {
  400: 'Invalid request: details name each field',
  401: 'Missing or invalid API token',
  403: 'The caller does not have a required role',
  404: 'Not found',
  409: 'Conflicts with the current state (or a request with this Idempotency-Key is still in flight)',
  410: 'Gone: the link expired or was already used',
  413: 'The request body is larger than 1 MB',
  415: 'The request body\'s Content-Encoding is not supported',
  429: 'Too many requests: see Retry-After',
  422: 'Refused by a business rule (or the Idempotency-Key was used for another request)',
};

const METHODS_WITH_BODY: readonly Method[] = ['post', 'put', 'patch'];
/** Bodies are read only after the caller is authenticated, and only by the routes that take one. */
const jsonBody = express.json({ limit: '1mb', verify: refuseDeepJson });

/** Query parameters the route does not declare (typos, `customerId[]=`) are refused, not ignored. */
function unknownQueryParameters(schema: AnyObject | undefined, query: Record<string, unknown>): FieldProblem[] {
  const known = new Set(schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);
  return Object.keys(query)
    .filter((name) => !known.has(name))
    .map((field) => ({
      in: 'query' as const,
      field,
      message: field.includes('[') ? 'is not a parameter of this endpoint (array-style parameters are not accepted)' : 'is not a parameter of this endpoint',
    }));
}

/** Parses one part of the request; its problems are added to `problems` (every part is checked before any is refused). */
function parseInto<T extends z.ZodType>(schema: T | undefined, value: unknown, location: FieldProblem['in'], problems: FieldProblem[]): z.output<T> {
  if (!schema) return undefined as z.output<T>;
  const result = schema.safeParse(value ?? (location === 'body' ? undefined : {}));
  if (!result.success) {
    problems.push(...zodProblems(result.error, location));
    return undefined as z.output<T>;
  }
  return result.data;
}

/**
 * One declaration per endpoint: it becomes both the Express handlers and its OpenAPI path. A request
 * is authenticated first, then its body is read (JSON, at most 1 MB), then a POST that changes
 * something goes through Idempotency-Key handling, then path, query and body are validated.
 */
export class ApiRoutes {
  readonly router: Router = express.Router();
  readonly registry = new OpenAPIRegistry();
  /** Who each request's caller is, once authenticated: scopes its Idempotency-Key. */
  private readonly principals = new WeakMap<Request, string>();
  /** The multipart bodies read, for their routes' handlers and Idempotency-Keys. */
  private readonly multipartBodies = new WeakMap<Request, MultipartBody>();
  private readonly entries: RouteEntry[] = [];

  constructor(private readonly deps: { db: Db }) {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  }

  add<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(spec: RouteSpec<P, Q, B, R>): this {
    const status = spec.response.status ?? 200;
    const needsAuth = spec.access !== 'public';
    const takesIdempotencyKey = spec.method === 'post' && !spec.readOnly;
    const errorStatuses = [
      ...new Set([
        400,
        ...(needsAuth ? [401, 403] : []),
        ...(METHODS_WITH_BODY.includes(spec.method) ? [413, 415] : []),
        ...(takesIdempotencyKey ? [409, 422] : []),
        ...(spec.errors ?? []),
      ]),
    ].sort();
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
      summary: spec.summary,
      tags: [spec.tag],
      security: needsAuth ? [{ bearerAuth: [] }] : [],
      description:
        spec.access === 'public' ? undefined : spec.access.roles.length > 0 ? `Roles: ${spec.access.roles.join(', ')}` : 'Any signed-in user',
      request: {
        params: spec.params as never,
        query: spec.query as never,
        headers: takesIdempotencyKey ? idempotencyHeadersSchema : undefined,
        body: spec.multipart ? multipartRequestBody(spec.multipart, spec.body) : spec.body ? { content: { 'application/json': { schema: spec.body } }, required: true } : undefined,
      },
      responses: {
        [status]: {
          description: spec.response.description ?? 'OK',
          headers: takesIdempotencyKey
            ? { [IDEMPOTENT_REPLAYED_HEADER]: { description: 'Present (`true`) when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } } }
            : undefined,
          content: spec.response.mediaTypes
            ? Object.fromEntries(spec.response.mediaTypes.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]))
            : { 'application/json': { schema: spec.response.schema } },
        },
        ...Object.fromEntries(
          errorStatuses.map((code) => [
            code,
            { description: spec.errorDescriptions?.[code] ?? errorDescriptions[code] ?? 'Error', content: { 'application/json': { schema: errorBodySchema } } },
          ]),
        ),
      },
    });

    const authenticate: RequestHandler = (req, _res, next) => {
      const principal = spec.access === 'public' ? spec.principal?.(req) : `user:${requireActor(req, spec.access.roles).id}`;
      if (principal) this.principals.set(req, principal);
      next();
    };
    const handle = async (req: Request, res: Response) => {
      const actor = spec.access === 'public' ? req.actor : requireActor(req, spec.access.roles);
      // Path, query and body are all checked, and one 400 names every problem.
      const problems: FieldProblem[] = [];
      const params = parseInto(spec.params, req.params, 'path', problems);
      problems.push(...unknownQueryParameters(spec.query, req.query));
      const query = parseInto(spec.query, req.query, 'query', problems);
      const multipartBody = this.multipartBodies.get(req);
      const body = parseInto(spec.body, multipartBody ? multipartBody.fields : req.body, 'body', problems);
      if (problems.length > 0) throw ApiError.validation(problems);
      const result = await spec.handler({ params, query, body, files: multipartBody?.files ?? [], actor, req, res });
      if (!res.headersSent) res.status(status).json(spec.response.schema.parse(result));
    };
    const handlers: RequestHandler[] = [authenticate];
    if (spec.multipart) {
      const readMultipart = createMultipartReader(spec.multipart);
      handlers.push(async (req, res, next) => {
        this.multipartBodies.set(req, await readMultipart(req, res));
        next();
      });
    } else if (METHODS_WITH_BODY.includes(spec.method)) handlers.push(jsonBody);
    if (takesIdempotencyKey) {
      handlers.push(
        idempotentRequests({
          db: this.deps.db,
          route: spec.path,
          principalOf: (req) => this.principals.get(req),
          // A multipart body is its text fields and each file's name, declared type and bytes (by hash).
          bodyOf: spec.multipart ? (req) => multipartFingerprint(this.multipartBodies.get(req)) : undefined,
        }),
      );
    }
    this.router[spec.method](spec.path, ...handlers, handle);
    this.entries.push(
      Object.freeze({
        method: spec.method,
        path: spec.path,
        access: spec.access,
        takesBody: Boolean(spec.multipart) || METHODS_WITH_BODY.includes(spec.method),
        spec: spec as unknown as RouteEntry['spec'],
      }),
    );
    return this;
  }

  /** Every route declared so far, in declaration order (read-only). */
  table(): readonly RouteEntry[] {
    return this.entries;
  }

  openApiDocument(info: { title: string; version: string; description?: string }, serverUrl: string) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info,
      servers: [{ url: serverUrl }],
    });
  }
}

/** The multipart/form-data request body of the document: the text fields of `fields` and the repeatable file field. */
function multipartRequestBody(multipart: NonNullable<RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType>['multipart']>, fields: z.ZodType | undefined) {
  const textFields = fields instanceof z.ZodObject ? (fields.shape as Record<string, z.ZodType>) : {};
  const schema = z.object({
    [multipart.fileField]: z
      .array(z.string().meta({ contentMediaType: 'application/octet-stream' }))
      .min(1)
      .max(multipart.maxFiles)
      .meta({ description: multipart.fileDescription }),
    ...textFields,
  });
  return { content: { 'multipart/form-data': { schema } }, required: true };
}

function multipartFingerprint(body: MultipartBody | undefined): unknown {
  if (!body) return null;
  return {
    fields: body.fields,
    files: body.files.map((file) => ({ name: file.fileName, type: file.declaredType, sha256: createHash('sha256').update(file.content).digest('hex') })),
  };
}

/** The largest offset a list accepts (PostgreSQL takes a bigint; no list is near this long). */
const MAX_OFFSET = 1_000_000_000;

export const pageQuerySchema = z.object({
  limit: decimalInteger(1, 200).default(50),
  offset: decimalInteger(0, MAX_OFFSET).default(0),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
}

export const idParamsSchema = z.object({ id: z.uuid() });

/** Where createApp keeps its ApiRoutes on `app.locals`, for routeTableOf. */
export const API_ROUTES_LOCAL = 'apiRoutes';

/** The route table of an app built by createApp (tests, the console). */
export function routeTableOf(app: { locals: Record<string, unknown> }): readonly RouteEntry[] {
  const routes = app.locals[API_ROUTES_LOCAL];
  if (!(routes instanceof ApiRoutes)) throw new Error('This app has no ApiRoutes on app.locals');
  return routes.table();
}
