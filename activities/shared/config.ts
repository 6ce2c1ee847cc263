import path from 'node:path';
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** Where customers send DOA units and RMA parts back, until RMA_RETURN_ADDRESS names the real one. */
export const DEFAULT_RETURN_ADDRESS = 'fieldops RMA centre, 1 Service Road, Haidian District, Beijing 100085';

const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  DATA_DIR: z.string().default('var'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  MAIL_FROM: z.string().default('fieldops <noreply@fieldops.local>'),
  RMA_RETURN_ADDRESS: z.string().trim().min(1).default(DEFAULT_RETURN_ADDRESS),
  PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),
  SIGNED_LINK_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  SIGNED_LINK_TTL_HOURS: z.coerce.number().int().positive().default(24 * 30),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('fieldops'),
  DEV_CLOCK_START: optionalString.pipe(z.iso.datetime({ offset: true }).optional()),
  OUTBOX_MAX_RETRY_SECONDS: z.coerce.number().int().min(1).max(24 * 3600).default(15 * 60),
  RATE_LIMIT_LINKS_PER_IP: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_LINKS_PER_TOKEN: z.coerce.number().int().min(1).default(120),
});

export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly port: number;
  readonly logLevel: string;
  /** `pretty`: coloured lines for a terminal (pino-pretty); `json`: one JSON object a line. */
  readonly logFormat: 'json' | 'pretty';
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** RMA_RETURN_ADDRESS: where customers send DOA units and RMA parts back. */
  readonly returnAddress: string;
  readonly publicBaseUrl: string;
  readonly signedLinkSecret: string;
  readonly signedLinkTtlHours: number;
  readonly temporal: {
    readonly address: string | undefined;
    readonly namespace: string;
    readonly taskQueue: string;
  };
  /**
   * Development and tests only, with the embedded Temporal: where the clock of a new DATA_DIR starts
   * (epoch ms). Time then runs at wall-clock speed and goes on from there across restarts.
   */
  readonly devClockStartMs: number | undefined;
  /** The outbox relay's longest wait between two attempts of a mail SMTP refused (its backoff doubles from 5 s up to this). */
  readonly outboxMaxRetryDelayMs: number;
  /** Requests a minute to the signed links (/links/...), by client address and by link (api/shared/rate-limit.ts). */
  readonly rateLimits: {
    readonly links: { readonly perIpPerMinute: number; readonly perTokenPerMinute: number };
  };
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

// Only for development and tests: production refuses to start without SIGNED_LINK_SECRET.
const DEVELOPMENT_SIGNED_LINK_SECRET = 'fieldops-development-signed-link-secret-not-for-production';

/** Reads the environment once, validates it and returns a frozen config; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const values = parsed.data;
  const problems: string[] = [];
  if (values.NODE_ENV === 'production') {
    if (!values.SIGNED_LINK_SECRET) problems.push('SIGNED_LINK_SECRET: required in production');
    if (!values.DATABASE_URL) problems.push('DATABASE_URL: required in production');
    if (!values.SMTP_URL) problems.push('SMTP_URL: required in production');
    if (!values.TEMPORAL_ADDRESS) problems.push('TEMPORAL_ADDRESS: required in production');
    if (!values.PUBLIC_BASE_URL) problems.push('PUBLIC_BASE_URL: required in production');
    if (values.DEV_CLOCK_START) problems.push('DEV_CLOCK_START: not allowed in production');
  }
  if (values.DEV_CLOCK_START && values.TEMPORAL_ADDRESS) {
    problems.push('DEV_CLOCK_START: only with the embedded Temporal (unset TEMPORAL_ADDRESS); a real cluster keeps real time');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    env: values.NODE_ENV,
    port: values.PORT,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
    dataDir: path.resolve(values.DATA_DIR),
    databaseUrl: values.DATABASE_URL,
    databasePoolSize: values.DATABASE_POOL_SIZE,
    smtpUrl: values.SMTP_URL,
    mailFrom: values.MAIL_FROM,
    returnAddress: values.RMA_RETURN_ADDRESS,
    publicBaseUrl: (values.PUBLIC_BASE_URL ?? `http://localhost:${values.PORT}`).replace(/\/+$/, ''),
    signedLinkSecret: values.SIGNED_LINK_SECRET ?? DEVELOPMENT_SIGNED_LINK_SECRET,
    signedLinkTtlHours: values.SIGNED_LINK_TTL_HOURS,
    temporal: Object.freeze({
      address: values.TEMPORAL_ADDRESS,
      namespace: values.TEMPORAL_NAMESPACE,
      taskQueue: values.TEMPORAL_TASK_QUEUE,
    }),
    devClockStartMs: values.DEV_CLOCK_START ? Date.parse(values.DEV_CLOCK_START) : undefined,
    outboxMaxRetryDelayMs: values.OUTBOX_MAX_RETRY_SECONDS * 1000,
    rateLimits: Object.freeze({
      links: Object.freeze({ perIpPerMinute: values.RATE_LIMIT_LINKS_PER_IP, perTokenPerMinute: values.RATE_LIMIT_LINKS_PER_TOKEN }),
    }),
  });
}
