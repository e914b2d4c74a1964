import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig, ConfigModule } from './config';
import { AuthModule, authOptionsFromConfig } from './auth';
import { UsersModule } from './users';
import { HealthModule } from './health/health.module';
import { NotesModule } from './notes/notes.module';
import { LoggingModule } from './logging/logging.module';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    AuthModule.forRootAsync({
      // UsersModule: the credentials port; LoggingModule: the audit trail's logger.
      imports: [UsersModule, LoggingModule],
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => authOptionsFromConfig(config),
    }),
    HealthModule,
    NotesModule,
  ],
})
export class AppModule {}
