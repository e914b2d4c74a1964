/** Time source for every expiry decision, injectable so tests can move time. Milliseconds. */
export interface Clock {
  now(): number;
}
export const CLOCK = Symbol('CLOCK');
export const systemClock: Clock = { now: () => Date.now() };
