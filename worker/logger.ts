import { DefaultLogger, Runtime as TemporalRuntime } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Config } from './config';

/**
 * The process's logger: JSON lines, or with `LOG_FORMAT=pretty` one readable line per entry for a
 * terminal (written synchronously, so nothing is lost when the process stops).
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  const options = { level: config.logLevel, base: { service: 'fieldops' } };
  if (config.logFormat === 'json') return pino(options);
  return pino(options, pinoPretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true, sync: true }));
}

const SDK_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Routes the Temporal SDK's own log (worker state changes, task failures) into the process's
 * logger, at most at info, with `sdk: true`. Install once, before the first connection.
 */
export function installTemporalRuntime(logger: Logger, options: { shutdownSignals?: NodeJS.Signals[] } = {}): void {
  const sdkLogger = logger.child({ sdk: true });
  TemporalRuntime.install({
    logger: new DefaultLogger('INFO', (entry) => sdkLogger[SDK_LEVELS[entry.level]](entry.meta ?? {}, entry.message)),
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
  });
}
