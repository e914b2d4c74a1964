export { APP_CONFIG, ConfigModule } from './config.module';
export { loadConfig, ConfigError } from './app-config.schema';
export type { AppConfig, JwtAlgorithm, SameSite, DeviceBinding, CompromiseAction, LogLevel } from './app-config.schema';
export { authOptionsFromConfig } from './auth-options';
