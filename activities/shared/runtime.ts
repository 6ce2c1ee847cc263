import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock';
import { createMailer, mailCaptureDirectory, senderOf, type Mailer } from './mailer';
import { createSignedLinks, type SignedLinks } from './signed-links';
import { migrateToLatest, openDatabase, type Db } from '../../db';
import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import { addMissingCalendarYears, createCalendarProvider, type CalendarProvider } from '../../db/repositories/calendar';
import type { Config } from './config';
import { createLogger } from './logger';

/** The long-lived dependencies every process shares, built once from the config. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  mailer: Mailer;
  /** MAIL_FROM as a name and an address. */
  sender: { name: string; email: string } | undefined;
  /** RMA_RETURN_ADDRESS: where customers send units and parts back. */
  returnAddress: string;
  clock: Clock;
  links: SignedLinks;
  /** The business calendar from the database, cached and rebuilt when a year is loaded or replaced. */
  calendar: CalendarProvider;
  /** Set when mail is captured to files instead of sent (no SMTP_URL). */
  mailCaptureDirectory: string | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  migrate?: boolean;
  ownEmbeddedDatabase?: boolean;
  /** Built from the config when absent. */
  logger?: Logger;
  /** The wall clock when absent; `npm start` passes the local Temporal's, so that activities and workflows agree. */
  clock?: Clock;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config);
  const database = await openDatabase(config, { takeOwnership: options.ownEmbeddedDatabase, log: (message) => logger.info(message) });
  const { db, description } = database;
  if (options.migrate !== false) {
    const applied = await migrateToLatest(db);
    logger.info({ database: description, applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
    const calendarYearsAdded = await addMissingCalendarYears(db, loadChineseWorkdayDataset(), (options.clock ?? systemClock).now());
    if (calendarYearsAdded.length > 0) logger.info({ years: calendarYearsAdded }, 'business calendar: years added from chinese-workday');
  }
  const clock = options.clock ?? systemClock;
  const mailer = createMailer(config);
  const mailCapture = config.smtpUrl ? undefined : mailCaptureDirectory(config);
  if (mailCapture) logger.warn({ directory: mailCapture }, 'SMTP_URL is not set: outgoing mail is captured to files, not sent');
  return {
    config,
    logger,
    db,
    mailer,
    sender: senderOf(config.mailFrom),
    returnAddress: config.returnAddress,
    clock,
    links: createSignedLinks({ secret: config.signedLinkSecret, publicBaseUrl: config.publicBaseUrl, ttlHours: config.signedLinkTtlHours, now: () => clock.now() }),
    calendar: createCalendarProvider(db),
    mailCaptureDirectory: mailCapture,
    async close() {
      mailer.close();
      await database.close();
    },
  };
}
