import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { EMBEDDED_STATE_FILE, EmbeddedStateFile } from './embedded-state.file';

describe('EmbeddedStateFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const onDisk = (): unknown => JSON.parse(readFileSync(join(dir, EMBEDDED_STATE_FILE), 'utf8'));

  it('load() is null before the first save, then returns what was saved; the file is private to its owner', async () => {
    const state = { n: 1 };
    const file = new EmbeddedStateFile(dir, () => state);
    expect(file.load()).toBeNull();
    await file.save();
    expect(file.load()).toEqual({ n: 1 });
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
  });

  it('creates a missing directory', async () => {
    const nested = join(dir, 'a', 'b');
    const file = new EmbeddedStateFile(nested, () => ({ ok: true }));
    await file.save();
    expect(readdirSync(nested)).toEqual([EMBEDDED_STATE_FILE]);
  });

  it('a save resolves only once the state as of that call is on disk; concurrent changes share writes (group commit)', async () => {
    let counter = 0;
    let collected = 0;
    const file = new EmbeddedStateFile(dir, () => {
      collected++;
      return { counter };
    });
    const saves: Array<Promise<void>> = [];
    const seenAfterOwnSave: number[] = [];
    for (let i = 0; i < 50; i++) {
      counter++;
      const mine = counter;
      saves.push(
        file.save().then(() => {
          seenAfterOwnSave.push((onDisk() as { counter: number }).counter - mine);
        }),
      );
    }
    await Promise.all(saves);
    // Every caller found at least its own change on disk when its save resolved.
    expect(seenAfterOwnSave).toHaveLength(50);
    expect(Math.min(...seenAfterOwnSave)).toBeGreaterThanOrEqual(0);
    expect(onDisk()).toEqual({ counter: 50 });
    // The first save wrote at once; the 49 made during it shared one more write.
    expect(collected).toBe(2);
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual([EMBEDDED_STATE_FILE]);
  });

  it('a write that fails rejects with STORE_UNAVAILABLE, and the next save writes again', async () => {
    const file = new EmbeddedStateFile(dir, () => ({ v: 1 }));
    await file.save();
    rmSync(dir, { recursive: true, force: true });
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await expect(file.save()).rejects.toMatchObject({ name: 'AuthError', code: 'STORE_UNAVAILABLE' });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining(file.path));
    new EmbeddedStateFile(dir, () => ({})); // recreates the directory
    await file.save();
    expect(onDisk()).toEqual({ v: 1 });
    logged.mockRestore();
  });

  it('load() throws on a file that is not JSON', () => {
    const file = new EmbeddedStateFile(dir, () => ({}));
    writeFileSync(file.path, '{"version": 1, "sessions": ');
    expect(() => file.load()).toThrow(SyntaxError);
  });
});
