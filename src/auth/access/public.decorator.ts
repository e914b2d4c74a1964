import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:isPublic';
export const AUTH_OPTIONAL = 'auth:optional';

/** Opts a route (or controller) out of the global guard. Routes are protected unless marked. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * The route runs with or without credentials: a valid one sets the principal, a missing or
 * failing one leaves it undefined (logout uses this to fall back to the refresh token).
 */
export const OptionalAuth = (): MethodDecorator & ClassDecorator => SetMetadata(AUTH_OPTIONAL, true);
