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
      imports: [UsersModule],
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => authOptionsFromConfig(config),
    }),
    HealthModule,
    NotesModule,
  ],
})
export class AppModule {}
