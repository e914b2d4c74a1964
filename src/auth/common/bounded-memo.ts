/**
 * Remembers the results of a pure function of a string, up to `max` entries; when full it simply
 * starts over (no LRU bookkeeping on the hot path). For keyed hashes of values that repeat across
 * requests (client addresses, User-Agents): an HMAC is a few µs, a map hit a few ns.
 */
export function boundedMemo(fn: (key: string) => string, max = 1024): (key: string) => string {
  const seen = new Map<string, string>();
  return (key) => {
    let value = seen.get(key);
    if (value === undefined) {
      value = fn(key);
      if (seen.size >= max) seen.clear();
      seen.set(key, value);
    }
    return value;
  };
}
