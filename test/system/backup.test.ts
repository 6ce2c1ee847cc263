import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { createMailer } from '../../activities/shared/mailer';
import { migrateToLatest, openDatabase, type OpenedDb } from '../../db';
import { nextCaseNumber } from '../../db/repositories/cases';
import { createTestApp, testConfig } from '../support/app';
import { seedServiceCompany } from '../support/fixtures';
import { bearer } from '../support/probes';

// `npm run backup` of a running embedded DATA_DIR and `npm run restore` into a new one, as a user
// runs them: the restored database has every case the source had when the backup was taken (and
// not the one written after it), the case-number sequences go on, and the local Temporal's state
// comes along.

const ROOT = path.resolve(__dirname, '..', '..');
const execFileAsync = promisify(execFile);
const LOANS = 4;

function npm(args: string[], dataDir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'NODE_ENV', 'NODE_OPTIONS', 'JEST_WORKER_ID']) delete env[name];
  return execFileAsync('npm', args, { cwd: ROOT, env, timeout: 120_000 });
}

function tempDataDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fieldops-${name}-`));
  // The embedded PostgreSQL runs as user postgres when the tests run as root.
  fs.chmodSync(dir, 0o755);
  return dir;
}

let source: OpenedDb | undefined;
let restored: OpenedDb | undefined;
const dirs: string[] = [];

afterAll(async () => {
  await restored?.close();
  await source?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

test('a backup of a running embedded DATA_DIR restored into a new DATA_DIR shows every case it had, goes on numbering, and brings the local Temporal state', async () => {
  const [sourceDir, targetDir, backupDir] = [tempDataDir('backup-source'), path.join(tempDataDir('backup-target'), 'var'), tempDataDir('backup-file')];
  dirs.push(sourceDir, path.dirname(targetDir), backupDir);
  source = await openDatabase({ databaseUrl: undefined, dataDir: sourceDir, databasePoolSize: 4 });
  const db = source.db;
  await migrateToLatest(db);
  const company = await seedServiceCompany(db, { roles: ['service_desk'] });
  const addLoan = async (serial: string) => {
    const device = await company.addDevice(serial);
    const number = await nextCaseNumber(db, 'SP', 2026);
    const kase = await db
      .insertInto('cases')
      .values({ kind: 'spare_part', number, status: 'pending_approval', customer_id: company.customerId, device_id: device.id, workflow_id: `spare-part/${number}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('spare_part_loans')
      .values({ case_id: kase.id, loan_number: number, customer_id: company.customerId, contact_id: company.contactId, failed_device_id: device.id, related_case_id: null, fault_description: 'dead', delivery_address: 'Shanghai', status: 'pending_approval', applied_by: 'desk', applied_by_role: 'service_desk', applied_at: new Date() })
      .execute();
    return number;
  };
  const numbers: string[] = [];
  for (let index = 1; index <= LOANS; index++) numbers.push(await addLoan(`SN-BACKUP-${index}`));
  // What the local Temporal keeps under DATA_DIR/temporal (its snapshot and journal).
  fs.mkdirSync(path.join(sourceDir, 'temporal'));
  fs.writeFileSync(path.join(sourceDir, 'temporal', 'journal-1.jsonl'), '[{"run":"spare-part/SP-2026-000001"}]\n');
  fs.writeFileSync(path.join(sourceDir, 'temporal', 'LOCK'), String(process.pid));

  const file = path.join(backupDir, 'fieldops.tar.gz');
  const backedUp = await npm(['run', 'backup', '--', file], sourceDir);
  expect(backedUp.stdout).toContain(`backup written to ${file}`);
  // Written after the backup: not in it.
  const later = await addLoan('SN-AFTER-BACKUP');

  const restoring = await npm(['run', 'restore', '--', file], targetDir);
  expect(restoring.stdout).toContain(`${LOANS} cases`);
  // Never over an existing installation.
  await expect(npm(['run', 'restore', '--', file], targetDir)).rejects.toMatchObject({ stderr: expect.stringContaining('restore into a new, empty DATA_DIR') });

  restored = await openDatabase({ databaseUrl: undefined, dataDir: targetDir, databasePoolSize: 4 });
  expect(restored.embedded?.url).not.toBe(source.embedded?.url);
  const cases = await restored.db.selectFrom('cases').select('number').orderBy('number').execute();
  expect(cases.map((row) => row.number)).toEqual(numbers);
  expect(numbers).not.toContain(later);
  // Through the app, as a user sees it.
  // The users came along: the desk's token works on the restored installation.
  const token = company.tokens.service_desk;
  const app = createTestApp(restored.db, {
    temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    mailer: createMailer({ smtpUrl: 'smtp://127.0.0.1:1', mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' }),
    config: testConfig,
  });
  const list = await request(app).get('/spare-parts?status=open').set(bearer(token));
  expect(list.status).toBe(200);
  expect(list.body.items.map((loan: { loanNumber: string }) => loan.loanNumber).sort()).toEqual(numbers);
  // The numbering goes on from the backup (its sequence came along), not from the source's later loan.
  expect(await nextCaseNumber(restored.db, 'SP', 2026)).toBe(later);
  expect(fs.readFileSync(path.join(targetDir, 'temporal', 'journal-1.jsonl'), 'utf8')).toBe('[{"run":"spare-part/SP-2026-000001"}]\n');
  expect(fs.existsSync(path.join(targetDir, 'temporal', 'LOCK'))).toBe(false);
}, 180_000);
