import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthenticationGuard } from './access/authentication.guard';
import type { AuthModuleOptions } from './common/auth-settings';

/** Module-level switches, outside the (possibly async) options. */
export interface AuthModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default true. */
  global?: boolean;
  /**
   * Install AuthenticationGuard for every route (routes are protected unless @Public()). Default
   * true. With false, protect routes with @UseGuards(AuthenticationGuard) or passport's
   * AuthGuard('jwt').
   */
  globalGuard?: boolean;
}

export const {
  ConfigurableModuleClass: AuthModuleBase,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE: AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<AuthModuleExtras>({ global: true, globalGuard: true }, (definition, extras) => ({
    ...definition,
    // Only an explicit false turns either off (an option spread as `undefined` keeps the default).
    global: extras.global !== false,
    providers: [...(definition.providers ?? []), ...(extras.globalGuard !== false ? [{ provide: APP_GUARD, useClass: AuthenticationGuard }] : [])],
  }))
  .build();
