import { DefaultLogger, Runtime as TemporalRuntime } from '@temporalio/worker';
import type { Logger } from 'pino';

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
