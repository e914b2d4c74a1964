import { newSession } from '../../../test/contracts/session-store.contract';
import { MemorySessionStore } from './session-store.memory-adapter';

describe('MemorySessionStore bounded state', () => {
  it('drops sessions that expired without ever being presented again', async () => {
    const store = new MemorySessionStore();
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) await store.create(newSession(`u${i}`, t0, { idleTtlMs: 1_000 }));
    // Well past their idle timeout, new logins trigger the sweep.
    for (let i = 0; i < 256; i++) await store.create(newSession(`v${i}`, t0 + 60_000, { idleTtlMs: 3_600_000 }));
    expect(store.size).toBeLessThanOrEqual(256);
    expect(await store.listByUser('v0', t0 + 60_000)).toHaveLength(1);
  });
});
