import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../activities/shared/config';
import { localTemporalDirectory } from '../worker/local-temporal/start';
import { embeddedPostgresOsUser, embeddedPostgresPaths, startEmbeddedPostgres } from './embedded-postgres';
import { freeLocalPort } from './free-port';

const execFileAsync = promisify(execFile);

/**
 * `npm run backup [-- FILE]` and `npm run restore -- FILE` for the embedded setup of `npm start`
 * (DATA_DIR): one .tar.gz with the local Temporal's state and an online base backup of the embedded
 * PostgreSQL, taken in that order (README "Backups" says why).
 *
 * PostgreSQL: the embedded-postgres binaries ship no pg_dump (only initdb, pg_ctl and postgres), and
 * a client older than the server (Debian's pg_dump 15 against PostgreSQL 18) refuses to dump it. So
 * the backup is PostgreSQL's own low-level base backup (pg_backup_start, copy of the cluster,
 * pg_backup_stop, the backup_label written into the copy, then the WAL written meanwhile): restored,
 * the server replays that WAL up to the end of the backup and is consistent as of that moment. It
 * works while `npm start` runs. It is a copy of the whole cluster: restore it with the same major
 * version (the embedded-postgres package of this lock file).
 *
 * With DATABASE_URL the server is not ours: back it up with its own tools (README).
 */

const MANIFEST = 'fieldops-backup.json';
/** Files of a running cluster that a base backup leaves out (PostgreSQL docs, "Making a Base Backup Using the Low Level API"). */
const SKIPPED_IN_CLUSTER = new Set(['postmaster.pid', 'postmaster.opts', 'pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans', 'backup_label', 'tablespace_map']);
/** Emptied, not left out: the server expects the folders. */
const EMPTIED_IN_CLUSTER = ['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans'];

interface Manifest {
  format: 'fieldops-backup';
  version: 1;
  createdAt: string;
  postgres: { serverVersion: string; startLsn: string; stopLsn: string };
  temporal: boolean;
}

function log(message: string): void {
  console.log(message);
}

function copyTree(from: string, to: string, skip: (relative: string) => boolean, relative = ''): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const name = path.join(relative, entry.name);
    if (skip(name)) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    try {
      if (entry.isDirectory()) copyTree(source, target, skip, name);
      else if (entry.isFile()) fs.copyFileSync(source, target);
    } catch (error) {
      // A running server drops temporary files and relations while the copy runs: the WAL replay
      // after restore recreates what the copy missed.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** The local Temporal's directory as it is now: snapshot first, then its journal (a torn last batch is dropped at load). */
function copyTemporal(dataDir: string, staging: string): boolean {
  const directory = localTemporalDirectory(dataDir);
  if (!fs.existsSync(directory)) return false;
  const target = path.join(staging, 'temporal');
  fs.mkdirSync(target, { recursive: true });
  const names = fs.readdirSync(directory).filter((name) => name !== 'LOCK' && !name.endsWith('.tmp'));
  for (const name of [...names.filter((file) => file.startsWith('snapshot')), ...names.filter((file) => !file.startsWith('snapshot'))]) {
    try {
      fs.copyFileSync(path.join(directory, name), path.join(target, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return true;
}

async function backup(dataDir: string, file: string | undefined): Promise<void> {
  const paths = embeddedPostgresPaths(dataDir);
  if (!fs.existsSync(path.join(paths.cluster, 'PG_VERSION'))) throw new Error(`${paths.cluster} holds no PostgreSQL cluster: nothing to back up in DATA_DIR=${dataDir}`);
  const output = path.resolve(file ?? `fieldops-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-backup-'));
  // Adopts the running server (npm start) or starts it for this run (stopped again at the end).
  const server = await startEmbeddedPostgres({ dataDir, log });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    // 1. Temporal first: the database copied after it is at least as new, so no workflow can be ahead
    //    of the rows its steps wrote (a workflow behind redoes steps whose keys make them no-ops).
    const temporal = copyTemporal(dataDir, staging);
    // 2. PostgreSQL: a base backup on this one session.
    const serverVersion = (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    const startLsn = (await client.query<{ lsn: string }>("select pg_backup_start('fieldops backup', true)::text as lsn")).rows[0]!.lsn;
    const firstWal = (await client.query<{ name: string }>('select pg_walfile_name($1::pg_lsn) as name', [startLsn])).rows[0]!.name;
    const clusterCopy = path.join(staging, 'postgres');
    copyTree(paths.cluster, clusterCopy, (relative) => SKIPPED_IN_CLUSTER.has(relative));
    const stopped = (await client.query<{ lsn: string; labelfile: string; spcmapfile: string }>('select lsn::text as lsn, labelfile, spcmapfile from pg_backup_stop(false)')).rows[0]!;
    fs.writeFileSync(path.join(clusterCopy, 'backup_label'), stopped.labelfile);
    if (stopped.spcmapfile) fs.writeFileSync(path.join(clusterCopy, 'tablespace_map'), stopped.spcmapfile);
    for (const folder of EMPTIED_IN_CLUSTER) fs.mkdirSync(path.join(clusterCopy, folder), { recursive: true, mode: 0o700 });
    // The WAL from the backup's start to its end, so that the copy restores on its own.
    copyTree(path.join(paths.cluster, 'pg_wal'), path.join(clusterCopy, 'pg_wal'), (relative) => relative === 'archive_status');
    fs.mkdirSync(path.join(clusterCopy, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(path.join(clusterCopy, 'pg_wal', firstWal))) throw new Error(`the WAL segment ${firstWal} was recycled while the backup ran: run it again`);
    fs.copyFileSync(paths.urlFile, path.join(staging, 'database-url'));
    const manifest: Manifest = { format: 'fieldops-backup', version: 1, createdAt: new Date().toISOString(), postgres: { serverVersion, startLsn, stopLsn: stopped.lsn }, temporal };
    fs.writeFileSync(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await execFileAsync('tar', ['-czf', output, '-C', staging, '.']);
    log(`backup written to ${output} (PostgreSQL ${serverVersion} ${startLsn}..${stopped.lsn}${temporal ? ', local Temporal state' : ''})`);
  } finally {
    await client.end().catch(() => undefined);
    await server.stop();
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function restore(dataDir: string, file: string | undefined): Promise<void> {
  if (!file) throw new Error('usage: npm run restore -- FILE (into an empty DATA_DIR)');
  const paths = embeddedPostgresPaths(dataDir);
  for (const existing of [paths.cluster, localTemporalDirectory(dataDir), paths.urlFile]) {
    if (fs.existsSync(existing)) throw new Error(`${existing} exists: restore into a new, empty DATA_DIR (never over a running or older installation)`);
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-restore-'));
  try {
    await execFileAsync('tar', ['-xzf', path.resolve(file), '-C', staging]);
    const manifest = JSON.parse(fs.readFileSync(path.join(staging, MANIFEST), 'utf8')) as Manifest;
    if (manifest.format !== 'fieldops-backup') throw new Error(`${file} is not a fieldops backup`);
    fs.cpSync(path.join(staging, 'postgres'), paths.cluster, { recursive: true });
    fs.chmodSync(paths.cluster, 0o700);
    const owner = await embeddedPostgresOsUser();
    if (owner.uid !== undefined) await execFileAsync('chown', ['-R', `${owner.uid}:${owner.gid ?? owner.uid}`, paths.cluster]);
    const url = new URL(fs.readFileSync(path.join(staging, 'database-url'), 'utf8').trim());
    // A new port: the restored cluster must not be mistaken for the one it was copied from, perhaps still running.
    url.port = String(await freeLocalPort());
    fs.writeFileSync(paths.urlFile, `${url.toString()}\n`, { mode: 0o600 });
    if (manifest.temporal) fs.cpSync(path.join(staging, 'temporal'), localTemporalDirectory(dataDir), { recursive: true });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  // The first start replays the backup's WAL; wait for it here so that a problem shows now.
  const server = await startEmbeddedPostgres({ dataDir, log });
  const client = new pg.Client({ connectionString: server.url });
  try {
    await client.connect();
    const cases = (await client.query<{ n: number }>('select count(*)::int as n from cases')).rows[0]!.n;
    log(`restored into ${dataDir}: ${cases} cases; start it with DATA_DIR=${dataDir} npm start`);
  } finally {
    await client.end().catch(() => undefined);
    await server.stop();
  }
}

async function main(): Promise<void> {
  const [command, file] = process.argv.slice(2);
  const config = loadConfig();
  if (config.databaseUrl) {
    throw new Error('DATABASE_URL is set: that server is not the embedded one; back it up with its own tools (pg_dump -Fc or pg_basebackup of the same major version, README "Backups")');
  }
  if (command === 'backup') await backup(config.dataDir, file);
  else if (command === 'restore') await restore(config.dataDir, file);
  else throw new Error('usage: npm run backup [-- FILE] | npm run restore -- FILE');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
