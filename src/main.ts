import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError, loadConfig } from './config';
import { PinoNestLogger } from './logging/pino-nest-logger.service';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    // One line naming the variable; no stack trace for a configuration mistake.
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bufferLogs: true,
    logger: config.logLevel === 'silent' ? false : levels(config.logLevel),
  });
  // Nest's own lines go through pino too (JSON, same destination as the audit trail).
  app.useLogger(app.get(PinoNestLogger));
  configureApp(app, config);
  if (config.production && config.trustProxy === false) {
    // Behind a load balancer every client would share its address: rate limits, lockout and audit.
    new Logger('Bootstrap').warn('NODE_ENV=production without TRUST_PROXY: client addresses are the socket peers; set TRUST_PROXY to the proxies in front of this app');
  }
  await app.listen(config.port, config.host);
  const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
  new Logger('Bootstrap').log(`listening on http://${shownHost}:${(app.getHttpServer().address() as { port: number }).port}`);
}

function levels(level: string): Array<'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const idx = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[level] ?? 3;
  return order.slice(0, idx + 1);
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`boot failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
