import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createDb, migrateToLatest } from '../db';
import { USER_ROLES } from '../db/schema';
import { loadConfig } from '../worker/config';
import { createUserWithToken } from './auth';

const argsSchema = z.object({ name: z.string().trim().min(1), email: z.email(), role: z.enum(USER_ROLES) });

/** `npm run user:create -- --name NAME --email EMAIL --role ROLE`: prints the new user's API token once. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } } });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`--${issue.path.join('.')}: ${issue.message}`);
    console.error(`usage: npm run user:create -- --name NAME --email EMAIL --role ${USER_ROLES.join('|')}`);
    process.exitCode = 2;
    return;
  }
  const { db, description } = createDb(loadConfig());
  try {
    await migrateToLatest(db);
    const { user, token } = await createUserWithToken(db, parsed.data);
    console.log(`Created ${user.role} ${user.name} <${user.email}> in ${description}.`);
    console.log(`API token (shown once, keep it safe): ${token}`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
