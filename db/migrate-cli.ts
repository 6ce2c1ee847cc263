import { loadConfig } from '../worker/config';
import { createDb, migrateDownToEmpty, migrateToLatest } from './index';

async function main(): Promise<void> {
  const config = loadConfig();
  const { db, description } = createDb(config);
  try {
    const down = process.argv.includes('--down');
    const names = down ? await migrateDownToEmpty(db) : await migrateToLatest(db);
    console.log(`${description}: ${names.length === 0 ? 'nothing to do' : `${down ? 'rolled back' : 'applied'} ${names.join(', ')}`}`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
