import type { IncomingMessage } from 'node:http';

/** The value of one cookie of the request, as sent (names and values here are base64url or ASCII tokens). */
export function readCookie(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [cookieName, ...value] = part.trim().split('=');
    if (cookieName === name) return value.join('=');
  }
  return undefined;
}
