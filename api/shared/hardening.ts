import { createHash } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';
import { ApiError } from '../errors';

/**
 * Security headers on every answer (helmet): HSTS, nosniff, no framing, no referrer, same-origin
 * resource and opener policies, and a Content-Security-Policy that allows nothing (JSON needs
 * nothing). HTML pages set their own policy over it: the customer pages (nonces, see
 * api/pages/customer-pages.ts) and /docs (docsSecurityHeaders).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** The `<style>` Swagger UI's script puts in its logo (an inline SVG); test/security/hardening.test.ts catches a new one. */
const SWAGGER_UI_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';

const sha256Source = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The policy of the Swagger UI page at /docs: its scripts and stylesheets are files of this origin;
 * its inline `<style>` blocks and `style` attributes are allowed by hash (of the HTML it serves,
 * computed once here), never by 'unsafe-inline'. "Try it out" may call the API at its public URL.
 */
export function docsSecurityHeaders(html: string, publicBaseUrl: string): RequestHandler {
  const styleBlocks = [...[...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)].map((match) => match[1] ?? ''), SWAGGER_UI_LOGO_STYLE].map(sha256Source);
  const styleAttributes = [...html.matchAll(/\sstyle="([^"]*)"/g)].map((match) => sha256Source(match[1] ?? ''));
  const origin = new URL(publicBaseUrl).origin;
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", ...new Set(styleBlocks), ...(styleAttributes.length > 0 ? ["'unsafe-hashes'", ...new Set(styleAttributes)] : [])],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'", origin],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
  });
}

/** The paths Express-style patterns (`/customers/:id`) match, as regular expressions. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`, 'i');
}

/**
 * The methods a path takes, from the route table: `options` answers OPTIONS (204 with `Allow`) before
 * the routers do (Express's own answer lists methods of every route its routers matched); `fallback`,
 * for a request no route answered, is a 405 with the same `Allow` when some route has this path, else
 * goes on to the 404. `Allow` names the methods of the routes whose pattern matches (HEAD with GET).
 */
export function allowedMethods(routes: () => readonly { method: string; path: string }[]): { options: RequestHandler; fallback: RequestHandler } {
  let compiled: { method: string; pattern: RegExp }[] | undefined;
  const allowOf = (path: string): string | undefined => {
    compiled ??= routes().map((route) => ({ method: route.method.toUpperCase(), pattern: patternOf(route.path) }));
    const methods = new Set(compiled.filter((route) => route.pattern.test(path)).map((route) => route.method));
    if (methods.size === 0) return undefined;
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods, 'OPTIONS'].sort().join(', ');
  };
  return {
    options: (req, res, next) => {
      const allow = req.method === 'OPTIONS' ? allowOf(req.path) : undefined;
      if (!allow) return next();
      res.setHeader('Allow', allow);
      res.status(204).end();
    },
    fallback: (req, res, next) => {
      const allow = allowOf(req.path);
      if (!allow) return next();
      res.setHeader('Allow', allow);
      next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}: use ${allow}`, { method: req.method, allow: allow.split(', ') }));
    },
  };
}

/** The deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 32;

/**
 * express.json's `verify`: refuses a body nested deeper than MAX_JSON_DEPTH (a 400 naming the body)
 * by scanning its bytes before JSON.parse builds it.
 */
export function refuseDeepJson(_req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < buffer.length; index += 1) {
    const byte = buffer[index];
    if (inString) {
      if (byte === 0x5c) index += 1; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) {
        throw ApiError.validation([{ in: 'body', field: '(root)', message: `is nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects` }]);
      }
    } else if (byte === 0x7d || byte === 0x5d) depth -= 1;
  }
}

/** Answers only clients on this machine (loopback), e.g. development endpoints; others get a 403. */
export const loopbackOnly: RequestHandler = (req: Request, _res, next) => {
  const address = req.ip ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  if (loopback) return next();
  next(new ApiError(403, 'loopback_only', 'This development endpoint answers clients on this machine only'));
};

/** What a request Node refused before Express saw it gets, in the JSON error model. */
function clientErrorAnswer(error: NodeJS.ErrnoException): [number, string, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'The request headers are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'The request was not received in time'];
    default:
      return [400, 'malformed_request', 'The request is not valid HTTP'];
  }
}

/**
 * Node answers a request it cannot parse (headers past `maxHeaderSize`, bad framing) itself, with an
 * empty body; this gives those answers (431, 400, 408) the JSON error model and the basic headers.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, message] = clientErrorAnswer(error);
    const body = JSON.stringify({ error: { code, message, details: null } });
    socket.end(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'X-Content-Type-Options: nosniff',
        'Cache-Control: no-store',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
}
