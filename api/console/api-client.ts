import type { Request } from 'express';
import { CSRF_HEADER, SESSION_COOKIE } from './sessions';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/**
 * The console reads through the API itself, over loopback to the server that received the page
 * request, as the signed-in user: the same authentication, roles, validation and read models as any
 * other client, and no second copy of them here.
 */
export interface ConsoleApi {
  get(path: string): Promise<ApiAnswer>;
  /** A change (or a read-only POST) as the signed-in user, with the session's CSRF token: for the console's own server-side forms. */
  send(method: 'POST' | 'PUT' | 'PATCH', path: string, body: unknown): Promise<ApiAnswer>;
}

export function consoleApiFor(req: Request, sessionToken: string, locale: string): ConsoleApi {
  const address = req.socket.localAddress ?? '127.0.0.1';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address.includes(':') ? `[${address}]` : address;
  const origin = `http://${host}:${req.socket.localPort}`;
  const headers = { cookie: `${SESSION_COOKIE}=${sessionToken}`, accept: 'application/json', 'accept-language': locale, ...(typeof req.id === 'string' ? { 'x-request-id': req.id } : {}) };
  const answerOf = async (response: Response): Promise<ApiAnswer> => {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body };
  };
  return {
    async get(path) {
      return answerOf(await fetch(origin + path, { headers, signal: AbortSignal.timeout(10_000) }));
    },
    async send(method, path, body) {
      const csrf = req.consoleSession?.csrfToken ?? '';
      return answerOf(
        await fetch(origin + path, { method, headers: { ...headers, 'content-type': 'application/json', [CSRF_HEADER]: csrf }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) }),
      );
    },
  };
}
