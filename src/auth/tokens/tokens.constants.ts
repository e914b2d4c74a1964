/** DI token of the loaded SigningKeySet. */
export const SIGNING_KEYS = Symbol('SIGNING_KEYS');
