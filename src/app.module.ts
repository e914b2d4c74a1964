import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, AppConfig, authOptionsFromConfig, ConfigModule } from './config';
import { AuthModule } from './auth';
import { UsersModule } from './users';
import { HealthModule } from './health/health.module';
import { NotesModule } from './notes/notes.module';
import { LoggingModule, ROOT_LOGGER } from './logging/logging.module';

/**
 * The example host: its configuration, logger and users table, handed to AuthModule; a feature
 * module (notes) protected by auth's global guard.
 */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    AuthModule.forRootAsync({
      // UsersModule provides CREDENTIALS_PORT; LoggingModule the logger the audit trail shares.
      imports: [UsersModule, LoggingModule],
      inject: [APP_CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, logger: Logger) => ({ ...authOptionsFromConfig(config), auditLogger: logger }),
    }),
    HealthModule,
    NotesModule,
  ],
})
export class AppModule {}
