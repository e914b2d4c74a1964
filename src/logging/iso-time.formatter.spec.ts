import pino from 'pino';
import { isoTimeFormatter } from './iso-time.formatter';

describe('isoTimeFormatter', () => {
  it('writes what pino.stdTimeFunctions.isoTime writes for the same instant', () => {
    for (const ms of [0, 1_700_000_000_123, 1_764_547_200_999, 4_102_444_800_000]) {
      const realNow = Date.now;
      Date.now = () => ms;
      try {
        expect(isoTimeFormatter(() => ms)()).toBe(pino.stdTimeFunctions.isoTime());
      } finally {
        Date.now = realNow;
      }
    }
  });

  it('follows the clock: a new millisecond gives a new time, the same one the same text', () => {
    let t = 1_764_547_200_000;
    const time = isoTimeFormatter(() => t);
    expect(time()).toBe(',"time":"2025-12-01T00:00:00.000Z"');
    expect(time()).toBe(',"time":"2025-12-01T00:00:00.000Z"');
    t += 1;
    expect(time()).toBe(',"time":"2025-12-01T00:00:00.001Z"');
    t += 86_400_000;
    expect(time()).toBe(',"time":"2025-12-02T00:00:00.001Z"');
  });
});
