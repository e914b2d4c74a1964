import { Module } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { AUDIT_LOGGER } from '../auth';
import { APP_CONFIG, type AppConfig } from '../config';
import { isoTimeFormatter } from './iso-time.formatter';
import { PinoNestLogger } from './pino-nest-logger.service';

/** Where log lines go: stdout by default; tests override it to capture lines. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/**
 * stdout, written in batches: lines collect up to 4 KB and leave at least every 100 ms (sonic-boom
 * minLength + periodicFlush), and whatever is pending is written synchronously at shutdown and at
 * process exit. One write per line cost ~2-4 µs of event-loop time per audit line (a write and
 * its completion callback through libuv); measured on the refresh path, see README. What a crash
 * that kills the process outright (SIGKILL, OOM) can lose: at most the last 100 ms of lines.
 */
export function bufferedStdout(fd = 1): DestinationStream & { flushSync(): void } {
  const dest = pino.destination({ fd, sync: false, minLength: 4096, periodicFlush: 100 });
  process.once('exit', () => {
    try {
      dest.flushSync();
    } catch {
      // The descriptor may already be gone; nothing left to do at exit.
    }
  });
  return dest;
}

/** The application's one pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * Logging: one pino logger built once from the configuration, JSON lines with an ISO 8601 UTC
 * `time`; authorization and cookie headers are redacted should a request ever be logged. It writes
 * Nest's own lines (PinoNestLogger, main.ts) and the auth audit trail (AUDIT_LOGGER: import this
 * module into AuthModule's). No HTTP request logging and no per-request child logger (two per
 * request cost ~10 % of refresh CPU): the audit's request id is set by auth's own middleware.
 */
@Module({
  providers: [
    { provide: LOG_DESTINATION, useFactory: (): DestinationStream => bufferedStdout() },
    {
      provide: ROOT_LOGGER,
      inject: [APP_CONFIG, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream): Logger =>
        pino(
          {
            level: config.logLevel,
            timestamp: isoTimeFormatter(),
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
          },
          destination,
        ),
    },
    { provide: AUDIT_LOGGER, useExisting: ROOT_LOGGER },
    { provide: PinoNestLogger, inject: [ROOT_LOGGER], useFactory: (logger: Logger) => new PinoNestLogger(logger) },
  ],
  exports: [LOG_DESTINATION, ROOT_LOGGER, AUDIT_LOGGER, PinoNestLogger],
})
export class LoggingModule {}
