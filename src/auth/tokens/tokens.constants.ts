/** DI token of the loaded SigningKeySet. */
export const SIGNING_KEYS = Symbol('SIGNING_KEYS');
/** DI token of the loaded MacSecret (mac-secret.loader.ts): the MACs' own secret, apart from the signing keys. */
export const MAC_SECRET = Symbol('MAC_SECRET');
