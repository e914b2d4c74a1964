import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSession, rotateCmd, secretPair } from '../../../test/contracts/session-store.contract';
import { newSessionId } from '../tokens/session-id.codec';
import { EMBEDDED_STATE_FILE } from './embedded-state.file';
import { createEmbeddedStores } from './embedded-stores.factory';

describe('createEmbeddedStores', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-stores-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('without a directory: plain in-memory stores, no file anywhere', async () => {
    const stores = createEmbeddedStores(null);
    expect(stores.file).toBeNull();
    await stores.sessions.create(newSession('u', Date.now()));
    await stores.revocations.add({ kind: 'session', sid: newSessionId(Date.now()), expiresAt: Date.now() + 60_000 }, Date.now());
  });

  it('a second boot on the same directory finds every session, rotation, revocation and cut-off of the first', async () => {
    const t0 = Date.now();
    const first = createEmbeddedStores(dir);
    const live = newSession('alice', t0);
    const loggedOut = newSession('alice', t0 + 1);
    const cutOff = newSession('bob', t0 + 2);
    for (const s of [live, loggedOut, cutOff]) await first.sessions.create(s);
    const rotation = rotateCmd(live, live.secretHash, t0 + 1_000);
    expect((await first.sessions.rotate(rotation)).kind).toBe('rotated');
    expect(await first.sessions.revoke('alice', loggedOut.sid)).toBe(true);
    await first.sessions.revokeAll('bob', t0 + 3, 3_600_000);
    await first.revocations.add({ kind: 'session', sid: loggedOut.sid, expiresAt: t0 + 900_000 }, t0 + 1_000);
    await first.revocations.add({ kind: 'user', userId: 'bob', cutoff: t0 + 3, expiresAt: t0 + 900_000 }, t0 + 1_000);

    // Nothing secret on disk: the refresh secrets are only there as hashes.
    const text = readFileSync(join(dir, EMBEDDED_STATE_FILE), 'utf8');
    expect(text).not.toContain(rotation.sealedSuccessor.toString('hex'));

    const second = createEmbeddedStores(dir);
    const now = t0 + 2_000;
    expect(await second.sessions.listByUser('alice', now)).toEqual(await first.sessions.listByUser('alice', now));
    expect(await second.sessions.get('alice', loggedOut.sid, now)).toBeNull();
    expect(await second.sessions.get('bob', cutOff.sid, now)).toBeNull();
    expect((await second.sessions.lookup('alice', live.sid, now))?.secretHash).toEqual(rotation.nextHash);
    // Within the grace, the previous secret still returns the very same sealed successor.
    const retry = await second.sessions.rotate(rotateCmd(live, live.secretHash, t0 + 1_500));
    expect(retry).toEqual(expect.objectContaining({ kind: 'replayed', sealedSuccessor: rotation.sealedSuccessor }));
    // A new session of bob (after the cut-off) lives.
    const later = newSession('bob', t0 + 5_000);
    await second.sessions.create(later);
    expect(await second.sessions.get('bob', later.sid, t0 + 5_001)).not.toBeNull();
    expect(new Set((await second.revocations.snapshot(now)).map((e) => JSON.stringify(e)))).toEqual(
      new Set((await first.revocations.snapshot(now)).map((e) => JSON.stringify(e))),
    );
    expect(await second.revocations.snapshot(now)).toHaveLength(2);
  });

  describe('each change is on disk when its call resolves (a reload right after it sees it)', () => {
    const t0 = Date.now();
    const s = newSession('carol', t0);
    const reloaded = () => createEmbeddedStores(dir).sessions;

    beforeEach(async () => {
      await createEmbeddedStores(dir).sessions.create(s);
    });

    it('create', async () => {
      expect(await reloaded().get('carol', s.sid, t0)).not.toBeNull();
    });

    it('rotate', async () => {
      const cmd = rotateCmd(s, s.secretHash, t0 + 10);
      await reloaded().rotate(cmd);
      expect((await reloaded().lookup('carol', s.sid, t0 + 20))?.secretHash).toEqual(cmd.nextHash);
    });

    it('touch', async () => {
      await reloaded().touch('carol', s.sid, t0 + 60_000, 120_000);
      expect((await reloaded().get('carol', s.sid, t0 + 60_000))?.lastUsedAt).toBe(t0 + 60_000);
    });

    it('revoke', async () => {
      await reloaded().revoke('carol', s.sid);
      expect(await reloaded().get('carol', s.sid, t0)).toBeNull();
    });

    it('revokeAll', async () => {
      await reloaded().revokeAll('carol', t0 + 1, 60_000);
      expect(await reloaded().get('carol', s.sid, t0)).toBeNull();
    });
  });

  it('a revocation reaches the disk before add() resolves', async () => {
    const stores = createEmbeddedStores(dir);
    const sid = newSessionId(Date.now());
    await stores.revocations.add({ kind: 'session', sid, expiresAt: Date.now() + 60_000 }, Date.now());
    expect(readFileSync(join(dir, EMBEDDED_STATE_FILE), 'utf8')).toContain(sid);
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['another format version', JSON.stringify({ version: 2, sessions: { sessions: [], cutoffs: [] }, revocations: [] })],
    ['a broken session', JSON.stringify({ version: 1, sessions: { sessions: [{ idleTtlMs: 1 }], cutoffs: [] }, revocations: [] })],
  ])('a state file that cannot be read (%s) stops the boot, naming the file, rather than starting empty', (_what, content) => {
    writeFileSync(join(dir, EMBEDDED_STATE_FILE), content);
    expect(() => createEmbeddedStores(dir)).toThrow(join(dir, EMBEDDED_STATE_FILE));
  });

  it('writes nothing until something changes', async () => {
    const stores = createEmbeddedStores(dir);
    await stores.sessions.get('u', newSessionId(Date.now()), Date.now());
    expect(existsSync(join(dir, EMBEDDED_STATE_FILE))).toBe(false);
    await stores.sessions.create(newSession('u', Date.now(), { secretHash: secretPair().hash }));
    expect(existsSync(join(dir, EMBEDDED_STATE_FILE))).toBe(true);
  });
});
