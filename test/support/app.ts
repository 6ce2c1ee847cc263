import pino from 'pino';
import { createSignedLinks, type SignedLinks } from '../../activities/shared/signed-links';
import { createApp, type AppDependencies } from '../../api/app';
import { createUserWithToken } from '../../api/auth';
import { pingDb, type Db } from '../../db';
import type { UserRole } from '../../db/schema';
import { loadConfig, type Config } from '../../activities/shared/config';

export const testConfig: Config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'http://fieldops.test', LOG_LEVEL: 'silent' });

export function testSignedLinks(now: () => Date = () => new Date()): SignedLinks {
  return createSignedLinks({ secret: testConfig.signedLinkSecret, publicBaseUrl: testConfig.publicBaseUrl, ttlHours: 24, now });
}

export function createTestApp(db: Db, overrides: Partial<AppDependencies> = {}) {
  return createApp({
    config: testConfig,
    db,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    links: testSignedLinks(),
    readiness: { database: () => pingDb(db) },
    ...overrides,
  });
}

/** One user per role, with their bearer tokens. */
export async function createUsers(db: Db, roles: readonly UserRole[]): Promise<Record<UserRole, string>> {
  const tokens = {} as Record<UserRole, string>;
  for (const role of roles) {
    const { token } = await createUserWithToken(db, { name: `${role} user`, email: `${role}@fieldops.test`, role });
    tokens[role] = token;
  }
  return tokens;
}
