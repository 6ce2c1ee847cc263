import { loadConfig } from '../activities/shared/config';
import { migrateDownToEmpty, migrateToLatest, openDatabase } from './index';

/** `npm run migrate [-- --down]`: against DATABASE_URL, or the embedded PostgreSQL (shared with a running `npm start`). */
async function main(): Promise<void> {
  const database = await openDatabase(loadConfig());
  try {
    const down = process.argv.includes('--down');
    const names = down ? await migrateDownToEmpty(database.db) : await migrateToLatest(database.db);
    console.log(`${database.description}: ${names.length === 0 ? 'nothing to do' : `${down ? 'rolled back' : 'applied'} ${names.join(', ')}`}`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
