import { randomBytes } from 'node:crypto';
import { newSessionId } from '../tokens/session-id.codec';
import { MemorySessionStore } from './session-store.memory';
import type { NewSession } from './session.store';

function session(userId: string, createdAt: number, idleTtlMs: number): NewSession {
  return {
    userId,
    sid: newSessionId(createdAt),
    kind: 'api',
    createdAt,
    authTime: Math.floor(createdAt / 1000),
    absoluteExpiresAt: createdAt + 86_400_000,
    idleTtlMs,
    deviceLabel: 'test',
    bindingHash: '',
    secretHash: randomBytes(32),
  };
}

describe('MemorySessionStore bounded state', () => {
  it('drops sessions that expired without ever being presented again', async () => {
    const store = new MemorySessionStore();
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) await store.create(session(`u${i}`, t0, 1_000));
    // Well past their idle timeout, new logins trigger the sweep.
    for (let i = 0; i < 256; i++) await store.create(session(`v${i}`, t0 + 60_000, 3_600_000));
    expect(store.size).toBeLessThanOrEqual(256);
    expect(await store.get('v0', (await store.listByUser('v0', t0 + 60_000))[0].sid, t0 + 60_000)).not.toBeNull();
  });
});
