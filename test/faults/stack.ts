// The fault suite's system: every part an OS process of its own, as in production, so that each can
// be killed, stopped or slowed on its own. A dedicated embedded PostgreSQL (its cluster in a temporary
// DATA_DIR, stopped and started with pg_ctl), the local Temporal engine as its own process (real time,
// its durable journal in that folder), the production worker (`worker/main.ts`) and API
// (`api/main.ts`) with NODE_ENV=production, and an SMTP capture process (smtp-capture.ts).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPostgresDb, migrateToLatest, type Db } from '../../db';
import { startEmbeddedPostgres, stopEmbeddedPostgresServer } from '../../db/embedded-postgres';
import type { CapturedMessage } from './smtp-capture';
import { freeLocalPort } from '../../db/free-port';


const ROOT = path.resolve(__dirname, '..', '..');
/** No HTTP call may take longer: an answer or a 503 with Retry-After comes first. */
export const HTTP_LIMIT_MS = 10_000;

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    let value: T | undefined;
    try {
      value = await probe();
      if (accept(value)) return value;
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms (${JSON.stringify(value)})`);
    await pause(250);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One HTTP call as the suite records it: what, how long, and how it ended. */
export interface HttpCall {
  label: string;
  method: string;
  path: string;
  status: number | 'connection error';
  ms: number;
  retryAfter?: string;
  code?: string;
}

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked by the assertions
  body: any;
  headers: http.IncomingHttpHeaders;
  ms: number;
}

interface Child {
  process: ChildProcess;
  exited: Promise<void>;
  /** Set when the suite kills it: any other exit is a crash. */
  killed?: boolean;
}

export interface FaultStack {
  readonly dataDir: string;
  readonly databaseUrl: string;
  /** The suite's own connection pool (seeding and checks); it fails while PostgreSQL is stopped. */
  readonly db: Db;
  readonly mails: CapturedMessage[];
  readonly calls: HttpCall[];
  /** Processes that exited without being killed by the suite (a crash), with their last log lines. */
  readonly crashes: string[];
  /** A call through the API process with a 10 s client timeout (a timeout fails the suite); never throws on a connection error. */
  api(label: string, method: string, route: string, token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer | undefined>;
  startWorker(): Promise<void>;
  killWorker(): Promise<void>;
  startApi(): Promise<void>;
  killApi(): Promise<void>;
  startTemporal(): Promise<void>;
  killTemporal(): Promise<void>;
  startPostgres(): Promise<void>;
  stopPostgres(): Promise<void>;
  startSmtp(): Promise<void>;
  killSmtp(): Promise<void>;
  setSmtpDelay(ms: number): void;
  /** The processes' output, for a failure's message. */
  logTail(which: 'worker' | 'api' | 'temporal', lines?: number): string;
  close(): Promise<void>;
}

export async function startFaultStack(name: string): Promise<FaultStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `fieldops-faults-${name}-`));
  // The embedded PostgreSQL runs as user postgres when the suite runs as root.
  fs.chmodSync(dataDir, 0o755);
  const [apiPort, temporalPort, smtpPort] = [await freeLocalPort(), await freeLocalPort(), await freeLocalPort()];
  const mails: CapturedMessage[] = [];
  const calls: HttpCall[] = [];
  const crashes: string[] = [];
  let closing = false;
  const logs = { worker: '', api: '', temporal: '' };
  let worker: Child | undefined;
  let apiProcess: Child | undefined;
  let temporal: Child | undefined;
  let smtp: Child | undefined;
  let smtpDelayMs = 0;

  const embedded = await startEmbeddedPostgres({ dataDir });
  const databaseUrl = embedded.url;
  const db = createPostgresDb(databaseUrl, 4);
  await migrateToLatest(db);

  function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_FROM: 'fieldops <noreply@fieldops.test>',
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      SIGNED_LINK_SECRET: 'fault-suite-signed-link-secret-of-at-least-32-characters',
      LOG_LEVEL: 'info',
      // The documented setting: the relay retries a refused mail after 5 s, 10 s, then every 10 s,
      // so that the end of a 2-minute SMTP outage shows within seconds instead of up to 80 s.
      OUTBOX_MAX_RETRY_SECONDS: '10',
      ...extra,
    };
    return env;
  }

  function launch(which: 'worker' | 'api', script: string, extra: Record<string, string> = {}): Child {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: environment(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (chunk: Buffer) => {
      logs[which] = (logs[which] + chunk.toString()).slice(-200_000);
      fs.appendFileSync(path.join(dataDir, `${which}.log`), chunk);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    return watched(which, child);
  }

  function watched(which: string, child: ChildProcess): Child {
    const handle: Child = {
      process: child,
      exited: new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          if (!handle.killed && !closing) crashes.push(`${which} exited (${code ?? signal}): ${which in logs ? logs[which as keyof typeof logs].slice(-3000) : ''}`);
          resolve();
        }),
      ),
    };
    return handle;
  }

  async function kill(child: Child | undefined): Promise<void> {
    if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
    child.killed = true;
    child.process.kill('SIGKILL');
    await child.exited;
  }

  function request(method: string, route: string, headers: Record<string, string>, payload: string | Buffer | undefined): Promise<ApiAnswer> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const outgoing = http.request({ host: '127.0.0.1', port: apiPort, path: route, method, headers, agent: false, timeout: HTTP_LIMIT_MS }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON (a page): kept as text.
          }
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers, ms: Date.now() - started });
        });
        response.on('error', reject);
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${route}: no answer within ${HTTP_LIMIT_MS} ms`)));
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  const stack: FaultStack = {
    dataDir,
    databaseUrl,
    db,
    mails,
    calls,
    crashes,
    async api(label, method, route, token, body, headers = {}) {
      // A Buffer goes as it is (its Content-Type in `headers`); anything else as JSON.
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const started = Date.now();
      const allHeaders: Record<string, string> = {
        ...(payload === undefined || Buffer.isBuffer(payload) ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      };
      try {
        const answer = await request(method, route, allHeaders, payload);
        const code = typeof answer.body === 'object' && answer.body?.error ? String(answer.body.error.code) : undefined;
        calls.push({ label, method, path: route, status: answer.status, ms: answer.ms, ...(answer.headers['retry-after'] ? { retryAfter: String(answer.headers['retry-after']) } : {}), ...(code ? { code } : {}) });
        return answer;
      } catch (error) {
        const ms = Date.now() - started;
        if (ms >= HTTP_LIMIT_MS) throw error;
        calls.push({ label, method, path: route, status: 'connection error', ms });
        return undefined;
      }
    },
    async startWorker() {
      const before = logs.worker.length;
      worker = launch('worker', 'worker/main.ts');
      const started = worker;
      await eventually(
        () => {
          if (started.process.exitCode !== null) throw new Error(`the worker exited:\n${logs.worker.slice(-4000)}`);
          return logs.worker.slice(before).includes('"worker started"');
        },
        Boolean,
        'the worker started',
        90_000,
      );
    },
    killWorker: () => kill(worker),
    async startApi() {
      apiProcess = launch('api', 'api/main.ts', { PORT: String(apiPort) });
      const started = apiProcess;
      await eventually(
        async () => {
          if (started.process.exitCode !== null) throw new Error(`the API exited:\n${logs.api.slice(-4000)}`);
          return (await request('GET', '/readyz', {}, undefined).catch(() => ({ status: 0 }))).status;
        },
        (status) => status === 200,
        'the API ready',
        90_000,
      );
    },
    killApi: () => kill(apiProcess),
    async startTemporal() {
      const child = spawn(process.execPath, [path.join(ROOT, 'worker/local-temporal/engine/temporal-test-server'), String(temporalPort), '--real-time', `--data-dir=${path.join(dataDir, 'temporal')}`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const append = (chunk: Buffer) => {
        logs.temporal = (logs.temporal + chunk.toString()).slice(-100_000);
        fs.appendFileSync(path.join(dataDir, 'temporal.log'), chunk);
      };
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      temporal = watched('temporal', child);
      await eventually(() => listening(temporalPort), Boolean, 'the local Temporal listening', 60_000);
    },
    killTemporal: () => kill(temporal),
    async startPostgres() {
      await startEmbeddedPostgres({ dataDir });
    },
    stopPostgres: () => stopEmbeddedPostgresServer(dataDir, 'fast'),
    async startSmtp() {
      const child = fork(path.join(__dirname, 'smtp-capture.ts'), [String(smtpPort), String(smtpDelayMs)], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx'],
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const ready = new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`smtp-capture exited with ${code}`)));
        child.on('message', (message: CapturedMessage | { type: 'listening' }) => {
          if (message.type === 'listening') resolve();
          else mails.push(message);
        });
      });
      smtp = watched('smtp', child);
      await ready;
    },
    killSmtp: () => kill(smtp),
    setSmtpDelay(ms) {
      smtpDelayMs = ms;
      smtp?.process.send({ delayMs: ms });
    },
    logTail(which, lines = 40) {
      return logs[which].split('\n').slice(-lines).join('\n');
    },
    async close() {
      closing = true;
      await Promise.all([kill(apiProcess), kill(worker), kill(smtp)]);
      await kill(temporal);
      await db.destroy().catch(() => undefined);
      await stopEmbeddedPostgresServer(dataDir, 'immediate').catch(() => undefined);
      if (process.env.KEEP_FAULT_DATA !== '1') fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Rows of the suite's checks, read with a client of its own (the pool may hold connections from before a restart). */
export async function query<Row extends Record<string, unknown>>(stack: Pick<FaultStack, 'databaseUrl'>, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: stack.databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}
