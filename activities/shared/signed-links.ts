import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface SignedLinkClaims {
  /** Token id, recorded when a single-use link is used. */
  jti: string;
  caseId: string;
  action: string;
  /** Expiry, epoch seconds. */
  exp: number;
  singleUse: boolean;
}

export type SignedLinkFailure = 'malformed' | 'forged' | 'expired';

export class SignedLinkError extends Error {
  constructor(readonly reason: SignedLinkFailure) {
    super(`signed link ${reason}`);
    this.name = 'SignedLinkError';
  }
}

export interface SignedLinks {
  issue(input: { caseId: string; action: string; singleUse: boolean; ttlHours?: number }): { token: string; url: string; expiresAt: Date };
  verify(token: string): SignedLinkClaims;
}

export interface SignedLinkOptions {
  readonly secret: string;
  readonly publicBaseUrl: string;
  readonly ttlHours: number;
  readonly now: () => Date;
}

/** HMAC-SHA256 signed, expiring links scoped to one case and one action. */
export function createSignedLinks(options: SignedLinkOptions): SignedLinks {
  const sign = (payload: string) => createHmac('sha256', options.secret).update(payload).digest('base64url');

  return {
    issue({ caseId, action, singleUse, ttlHours }) {
      const expiresAt = new Date(options.now().getTime() + (ttlHours ?? options.ttlHours) * 3_600_000);
      const claims: SignedLinkClaims = { jti: randomUUID(), caseId, action, exp: Math.floor(expiresAt.getTime() / 1000), singleUse };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const token = `${payload}.${sign(payload)}`;
      return { token, url: `${options.publicBaseUrl}/links/${token}`, expiresAt };
    },

    verify(token) {
      const [payload, signature, ...rest] = token.split('.');
      if (!payload || !signature || rest.length > 0) throw new SignedLinkError('malformed');
      const expected = Buffer.from(sign(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new SignedLinkError('forged');
      let claims: SignedLinkClaims;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SignedLinkClaims;
      } catch {
        throw new SignedLinkError('malformed');
      }
      if (typeof claims.caseId !== 'string' || typeof claims.action !== 'string' || typeof claims.exp !== 'number') {
        throw new SignedLinkError('malformed');
      }
      if (claims.exp * 1000 <= options.now().getTime()) throw new SignedLinkError('expired');
      return claims;
    },
  };
}
