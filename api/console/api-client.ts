import type { Request } from 'express';
import { SESSION_COOKIE } from './sessions';

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
}

export function consoleApiFor(req: Request, sessionToken: string, locale: string): ConsoleApi {
  const address = req.socket.localAddress ?? '127.0.0.1';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address.includes(':') ? `[${address}]` : address;
  const origin = `http://${host}:${req.socket.localPort}`;
  return {
    async get(path) {
      const response = await fetch(origin + path, {
        headers: { cookie: `${SESSION_COOKIE}=${sessionToken}`, accept: 'application/json', 'accept-language': locale, ...(typeof req.id === 'string' ? { 'x-request-id': req.id } : {}) },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      return { status: response.status, body };
    },
  };
}
