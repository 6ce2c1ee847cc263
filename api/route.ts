import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { UserRole } from '../db/schema';
import { requireActor, type Actor } from './auth';
import { ApiError, errorBodySchema, zodProblems, type FieldProblem } from './errors';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: a role list (bearer token), any signed-in user (`[]`), or anyone. */
export type Access = { roles: readonly UserRole[] } | 'public';

type AnyObject = z.ZodType<Record<string, unknown>>;

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
  response: { status?: number; schema: R; description?: string };
  /** Error statuses this route may answer besides 400/401/403, for the document. */
  errors?: number[];
  handler: (input: {
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
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
  409: 'Conflicts with the current state',
  410: 'Gone: the link expired or was already used',
  422: 'Refused by a business rule',
};

function parseOrThrow<T extends z.ZodType>(schema: T | undefined, value: unknown, location: FieldProblem['in']): z.output<T> {
  if (!schema) return undefined as z.output<T>;
  const result = schema.safeParse(value ?? (location === 'body' ? undefined : {}));
  if (!result.success) throw ApiError.validation(zodProblems(result.error, location));
  return result.data;
}

/** One declaration per endpoint: it becomes both the Express handler (validated, authorised) and its OpenAPI path. */
export class ApiRoutes {
  readonly router: Router = express.Router();
  readonly registry = new OpenAPIRegistry();

  constructor() {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  }

  add<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(spec: RouteSpec<P, Q, B, R>): this {
    const status = spec.response.status ?? 200;
    const needsAuth = spec.access !== 'public';
    const errorStatuses = [...new Set([400, ...(needsAuth ? [401, 403] : []), ...(spec.errors ?? [])])].sort();
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
        body: spec.body ? { content: { 'application/json': { schema: spec.body } }, required: true } : undefined,
      },
      responses: {
        [status]: {
          description: spec.response.description ?? 'OK',
          content: { 'application/json': { schema: spec.response.schema } },
        },
        ...Object.fromEntries(
          errorStatuses.map((code) => [
            code,
            { description: errorDescriptions[code] ?? 'Error', content: { 'application/json': { schema: errorBodySchema } } },
          ]),
        ),
      },
    });

    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      const actor = spec.access === 'public' ? req.actor : requireActor(req, spec.access.roles);
      const params = parseOrThrow(spec.params, req.params, 'path');
      const query = parseOrThrow(spec.query, req.query, 'query');
      const body = parseOrThrow(spec.body, req.body, 'body');
      const result = await spec.handler({ params, query, body, actor, req, res });
      if (!res.headersSent) res.status(status).json(spec.response.schema.parse(result));
    });
    return this;
  }

  openApiDocument(info: { title: string; version: string; description?: string }, serverUrl: string) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info,
      servers: [{ url: serverUrl }],
    });
  }
}

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
}

export const idParamsSchema = z.object({ id: z.uuid() });
