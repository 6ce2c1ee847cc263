import { parseArgs } from 'node:util';
import { z } from 'zod';
import { migrateToLatest, openDatabase } from '../db';
import { USER_ROLES } from '../db/schema';
import { loadConfig } from '../activities/shared/config';
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
  const database = await openDatabase(loadConfig());
  try {
    await migrateToLatest(database.db);
    const { user, token } = await createUserWithToken(database.db, parsed.data);
    console.log(`Created ${user.role} ${user.name} <${user.email}> in ${database.description}.`);
    console.log(`API token (shown once, keep it safe): ${token}`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
