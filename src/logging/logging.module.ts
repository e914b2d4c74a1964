import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config';
import { isoTimeFormatter } from './iso-time.formatter';
import { PinoNestLogger } from './pino-nest-logger.service';

/** Where log lines go: stdout by default; tests override it to capture lines. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** A log destination whose pending lines can be written out now, and that can be closed. */
export interface BufferedDestination extends DestinationStream {
  flushSync(): void;
  /** Stops the periodic flush and writes what is pending; the descriptor stays open. */
  close(): void;
}

const liveDestinations = new Set<BufferedDestination>();
let exitHooked = false;

/**
 * stdout, written in batches: lines collect up to 4 KB (sonic-boom minLength) and leave at least
 * every 100 ms, at shutdown (LoggingModule closes it) and at process exit (one hook for the
 * process, whatever the number of apps in it). One write per line cost ~2-4 µs of event-loop time
 * per audit line (a write and its completion callback through libuv), on every refresh and login.
 * What a crash that kills the process outright (SIGKILL, OOM) can lose: at most the last 100 ms.
 */
export function bufferedStdout(fd = 1): BufferedDestination {
  const dest = pino.destination({ fd, sync: false, minLength: 4096 });
  const timer = setInterval(() => dest.flush(), 100);
  timer.unref();
  const out = Object.assign(dest, {
    close(): void {
      clearInterval(timer);
      liveDestinations.delete(out);
      flushQuietly(dest);
    },
  });
  liveDestinations.add(out);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const d of liveDestinations) flushQuietly(d);
    });
  }
  return out;
}

function flushQuietly(d: { flushSync(): void }): void {
  try {
    d.flushSync();
  } catch {
    // The descriptor may already be gone (at exit, say): nothing left to do.
  }
}

/** Writes out and stops the buffered destination when the application shuts down. */
class LogDestinationLifecycle implements OnApplicationShutdown {
  constructor(@Inject(LOG_DESTINATION) private readonly destination: DestinationStream) {}

  onApplicationShutdown(): void {
    const d = this.destination as Partial<BufferedDestination>;
    if (typeof d.close === 'function') d.close();
  }
}

/** The application's one pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * Logging: one pino logger built once from the configuration, JSON lines with an ISO 8601 UTC
 * `time`; authorization and cookie headers are redacted should a request ever be logged. It writes
 * Nest's own lines (PinoNestLogger, main.ts) and the auth audit trail (AppModule hands ROOT_LOGGER
 * to AuthModule as its auditLogger). No HTTP request logging and no per-request child logger (two per
 * request cost ~10 % of refresh CPU): the audit's request id comes from auth's requestIdOf.
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
    LogDestinationLifecycle,
    { provide: PinoNestLogger, inject: [ROOT_LOGGER], useFactory: (logger: Logger) => new PinoNestLogger(logger) },
  ],
  exports: [LOG_DESTINATION, ROOT_LOGGER, PinoNestLogger],
})
export class LoggingModule {}
