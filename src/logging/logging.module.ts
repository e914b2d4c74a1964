import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config';
import { PinoNestLogger } from './pino-nest-logger.service';

/** Where log lines go: stdout by default; tests override it to capture lines. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

type LogDestination = ReturnType<typeof pino.destination>;

/**
 * stdout through pino's own asynchronous destination: lines collect up to 4 KB and leave at least
 * every 100 ms (periodicFlush), instead of one write per line on every refresh and login. Pending
 * lines are written at shutdown (LoggingModule flushes it) and at process exit (pino registers
 * that for an asynchronous destination). A process killed outright (SIGKILL, out of memory) can
 * lose at most the last 100 ms.
 */
export function logDestination(fd = 1): LogDestination {
  return pino.destination({ fd, sync: false, minLength: 4096, periodicFlush: 100 });
}

/** Writes out what the destination still holds when the application shuts down. */
export class LogDestinationLifecycle implements OnApplicationShutdown {
  constructor(@Inject(LOG_DESTINATION) private readonly destination: DestinationStream) {}

  onApplicationShutdown(): void {
    const d = this.destination as Partial<LogDestination>;
    if (typeof d.flushSync !== 'function') return;
    try {
      d.flushSync();
    } catch {
      // The descriptor may already be gone: nothing left to do.
    }
  }
}

/** The application's one pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * Logging: one pino logger built once from the configuration, JSON lines with an ISO 8601 UTC
 * `time`; authorization and cookie headers are redacted should a request ever be logged. It writes
 * Nest's own lines (PinoNestLogger, main.ts) and the auth audit trail (AppModule hands ROOT_LOGGER
 * to AuthModule as its auditLogger). No HTTP request logging and no per-request child logger
 * (their cost on refresh: docs/performance.md): the audit's request id comes from auth's requestIdOf.
 */
@Module({
  providers: [
    { provide: LOG_DESTINATION, useFactory: (): DestinationStream => logDestination() },
    {
      provide: ROOT_LOGGER,
      inject: [APP_CONFIG, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream): Logger =>
        pino(
          {
            level: config.logLevel,
            timestamp: pino.stdTimeFunctions.isoTime,
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
          },
          destination,
        ),
    },
    LogDestinationLifecycle,
    { provide: PinoNestLogger, inject: [ROOT_LOGGER], useFactory: (logger: Logger) => new PinoNestLogger(logger) },
  ],
  exports: [LOG_DESTINATION, ROOT_LOGGER, PinoNestLogger],
})
export class LoggingModule {}
