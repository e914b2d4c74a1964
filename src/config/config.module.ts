import { Global, Module } from '@nestjs/common';
import { AppConfig, loadConfig } from './app-config.schema';

/** DI token for the validated, frozen configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({
  providers: [{ provide: APP_CONFIG, useFactory: (): AppConfig => loadConfig() }],
  exports: [APP_CONFIG],
})
export class ConfigModule {
  /** For tests and embedding: a module that provides an already-built configuration. */
  static withConfig(config: AppConfig) {
    return { module: ConfigModule, global: true, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
