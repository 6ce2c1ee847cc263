import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcServiceError } from '@temporalio/client';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BUSINESS_RULE_VIOLATION, INVALID_TRANSITION } from '../workflows/shared/definitions';
import { VERSION_SUPERSEDED } from '../workflows/sign-off/definitions';
import { z } from 'zod';
import { TemporalTimeoutError } from './shared/temporal-calls';

export interface FieldProblem {
  /** Where the field is: the request body, query string or path. */
  in: 'body' | 'query' | 'path' | 'header';
  field: string;
  message: string;
}

/** The one error type the API throws; the error handler turns it into `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static validation(problems: FieldProblem[]): ApiError {
    const summary = problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
    return new ApiError(400, 'validation_failed', `Invalid request: ${summary}`, problems);
  }

  static notFound(what: string, id: string): ApiError {
    return new ApiError(404, 'not_found', `${what} ${id} does not exist`, { resource: what, id });
  }

  static conflict(code: string, message: string, details: unknown = null): ApiError {
    return new ApiError(409, code, message, details);
  }
}

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string(),
      details: z.unknown(),
    }),
  })
  .meta({ id: 'Error' });

export function zodProblems(error: z.ZodError, location: FieldProblem['in']): FieldProblem[] {
  return error.issues.map((issue) => ({
    in: location,
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

interface PgError {
  code: string;
  message: string;
  constraint?: string;
  detail?: string;
  column?: string;
}

function isPgError(error: unknown): error is PgError {
  return typeof error === 'object' && error !== null && typeof (error as PgError).code === 'string' && /^[0-9A-Z]{5}$/.test((error as PgError).code);
}

/** SQLSTATE class 22, "data exception": a value its column's type cannot hold (out of range, bad date, NUL byte...). */
const PG_DATA_EXCEPTION_CLASS = '22';

/** An error `http-errors` made for the client (body-parser, path decoding): a 4xx whose message may be shown. */
function isClientHttpError(error: unknown): error is Error & { status: number } {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as Error & { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && (expose === true || error instanceof URIError);
}

/** `Key (serial)=(X) already exists.` -> serial */
function fieldFromPgDetail(detail: string | undefined): string | undefined {
  return detail?.match(/^Key \(([^)]+)\)/)?.[1];
}

/** The first ApplicationFailure in a Temporal failure's cause chain (an update may fail through an activity). */
function applicationFailureIn(error: unknown): ApplicationFailure | undefined {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current instanceof ApplicationFailure) return current;
  }
  return undefined;
}

const statusForFailureType: Record<string, [number, string]> = {
  [INVALID_TRANSITION]: [409, 'invalid_transition'],
  [BUSINESS_RULE_VIOLATION]: [422, 'business_rule_violated'],
  [VERSION_SUPERSEDED]: [409, 'version_superseded'],
};

/** How long a caller is told to wait (`Retry-After`, seconds) when PostgreSQL or Temporal does not answer. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_S = 5;

/** Node socket errors and pg-pool messages of a PostgreSQL server that is down or going down. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const PG_UNREACHABLE_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /Client has encountered a connection error and is not queryable/, /^Connection ended unexpectedly/];

/**
 * PostgreSQL or Temporal unreachable for now, anywhere in the cause chain: SQLSTATE classes 08
 * (connection exception) and 57 (operator intervention: shutdown, starting up), a refused or reset
 * socket, gRPC UNAVAILABLE or DEADLINE_EXCEEDED, an Update call that timed out.
 */
function unavailableDependency(error: unknown): 'database' | 'temporal' | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    if (current instanceof WorkflowUpdateRPCTimeoutOrCancelledError || current instanceof TemporalTimeoutError) return 'temporal';
    if (isGrpcServiceError(current) && (current.code === GrpcStatus.UNAVAILABLE || current.code === GrpcStatus.DEADLINE_EXCEEDED)) return 'temporal';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^(08|57)[0-9A-Z]{3}$/.test(code))) return 'database';
    if (PG_UNREACHABLE_MESSAGES.some((pattern) => pattern.test(current.message))) return 'database';
  }
  return undefined;
}

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  const unavailable = unavailableDependency(error);
  if (unavailable) {
    return new ApiError(503, 'service_unavailable', `The ${unavailable === 'database' ? 'database' : 'workflow engine (Temporal)'} does not answer at the moment; try again shortly (a step may have been taken meanwhile: read the case first)`, {
      dependency: unavailable,
      retryAfterSeconds: SERVICE_UNAVAILABLE_RETRY_AFTER_S,
    });
  }
  if (error instanceof WorkflowUpdateFailedError) {
    const failure = applicationFailureIn(error.cause);
    const mapped = failure?.type ? statusForFailureType[failure.type] : undefined;
    if (failure && mapped) return new ApiError(mapped[0], mapped[1], failure.message, failure.details?.[0] ?? null);
    return undefined;
  }
  if (error instanceof WorkflowNotFoundError) {
    return new ApiError(409, 'process_closed', 'This process has already finished and accepts no more changes');
  }
  if (typeof error === 'object' && error !== null && 'type' in error) {
    const type = (error).type;
    if (type === 'entity.parse.failed') return new ApiError(400, 'malformed_json', 'The request body is not valid JSON');
    if (type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'The request body is too large');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return new ApiError(415, 'unsupported_encoding', 'The request body encoding is not supported');
    }
  }
  if (isPgError(error)) {
    const field = fieldFromPgDetail(error.detail);
    if (error.code === '23505') {
      return ApiError.conflict('already_exists', `A record with this ${field ?? 'key'} already exists`, { field: field ?? null });
    }
    if (error.code === '23503') {
      return ApiError.validation([{ in: 'body', field: field ?? 'reference', message: 'refers to a record that does not exist' }]);
    }
    if (error.code === '23514') {
      return ApiError.validation([{ in: 'body', field: field ?? error.column ?? '(root)', message: 'has a value the database refuses' }]);
    }
    if (error.code.startsWith(PG_DATA_EXCEPTION_CLASS)) {
      return ApiError.validation([{ in: 'body', field: field ?? error.column ?? '(root)', message: `has a value the database cannot store (${error.message})` }]);
    }
  }
  if (error instanceof URIError && isClientHttpError(error)) {
    return new ApiError(400, 'malformed_path', 'The request path is not valid percent-encoded UTF-8');
  }
  if (isClientHttpError(error)) {
    return new ApiError(error.status, 'malformed_request', `The request could not be read: ${error.message}`);
  }
  return undefined;
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'route_not_found', `No route ${req.method} ${req.path}`, { method: req.method, path: req.path }));
};

export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const apiError = toApiError(error);
  // A server fault: the request line (api/shared/request-log.ts) logs it, with its stack, at error.
  if (!apiError || apiError.status >= 500) res.err = error instanceof Error ? error : new Error(String(error));
  if (!apiError) {
    res.status(500).json({ error: { code: 'internal_error', message: 'Something went wrong on our side', details: { requestId: req.id } } });
    return;
  }
  if (apiError.status === 503) res.setHeader('Retry-After', String(SERVICE_UNAVAILABLE_RETRY_AFTER_S));
  res.status(apiError.status).json({ error: { code: apiError.code, message: apiError.message, details: apiError.details } });
};
