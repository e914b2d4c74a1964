/**
 * pino's `timestamp` option: `,"time":"<ISO 8601 UTC>"`, as pino.stdTimeFunctions.isoTime writes
 * it, but formatted once per millisecond: every audit line pays for a Date and toISOString
 * otherwise (~1-2 µs), and under load several lines share a millisecond.
 */
export function isoTimeFormatter(now: () => number = Date.now): () => string {
  let lastMs = Number.NaN;
  let last = '';
  return () => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      last = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return last;
  };
}
