import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Global, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config';

/** Where log lines go: stdout by default; tests override it to capture lines. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The application's pino logger (nestjs-pino). Kept light on purpose (the guarded path is
 * benchmarked): no per-request access log (autoLogging off), and the request-context middleware
 * (request id for the lines logged while handling a request) only on the auth endpoints that
 * audit, not on /auth/me, /health or feature routes. Lines are JSON with an ISO 8601 UTC `time`;
 * authorization and cookie headers are redacted should a request ever be logged.
 */
@Global()
@Module({
  providers: [{ provide: LOG_DESTINATION, useFactory: (): DestinationStream => pino.destination({ fd: 1, sync: false }) }],
  exports: [LOG_DESTINATION],
})
class LogDestinationModule {}

@Module({
  imports: [
    LogDestinationModule,
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream) => ({
        pinoHttp: [
          {
            level: config.logLevel,
            autoLogging: false,
            quietReqLogger: true,
            timestamp: pino.stdTimeFunctions.isoTime,
            genReqId: (req: IncomingMessage) => {
              const given = req.headers['x-request-id'];
              return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
            },
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
          },
          destination,
        ],
        forRoutes: [
          { path: 'auth/login', method: RequestMethod.POST },
          { path: 'auth/browser/login', method: RequestMethod.POST },
          { path: 'auth/register', method: RequestMethod.POST },
          { path: 'auth/refresh', method: RequestMethod.POST },
          { path: 'auth/logout', method: RequestMethod.POST },
          { path: 'auth/logout-all', method: RequestMethod.POST },
          { path: 'auth/password', method: RequestMethod.POST },
          { path: 'auth/sessions/{*id}', method: RequestMethod.DELETE },
        ],
      }),
    }),
  ],
})
export class LoggingModule {}
