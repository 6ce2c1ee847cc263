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
