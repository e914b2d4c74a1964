import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { bufferedStdout } from './logging.module';

describe('bufferedStdout (the log destination)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-dest-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('holds small lines for a moment, then writes them all, in order, within the flush period', async () => {
    const file = join(dir, 'periodic.log');
    const fd = openSync(file, 'w');
    const dest = bufferedStdout(fd);
    const logger = pino({ level: 'info' }, dest);
    for (let i = 0; i < 5; i++) logger.info({ audit: true, n: i }, 'event');
    expect(lines(file)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(lines(file).map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
    dest.close();
    closeSync(fd);
  });

  it('writes what is pending when closed (at application shutdown), and then stops its timer', async () => {
    const file = join(dir, 'closed.log');
    const fd = openSync(file, 'w');
    const dest = bufferedStdout(fd);
    const logger = pino({ level: 'info' }, dest);
    logger.info({ audit: true, n: 1 }, 'event');
    expect(lines(file)).toHaveLength(0);
    dest.close();
    expect(lines(file)).toHaveLength(1);
    // The descriptor is ours to close; no flush timer is left to write to it afterwards.
    closeSync(fd);
    await new Promise((r) => setTimeout(r, 250));
  });

  it('loses nothing when the process exits right after logging', () => {
    const file = join(dir, 'exit.log');
    const script = `
      const { openSync } = require('node:fs');
      require('ts-node').register({ transpileOnly: true });
      const pino = require('pino');
      const { bufferedStdout } = require(${JSON.stringify(join(__dirname, 'logging.module.ts'))});
      const logger = pino({ level: 'info' }, bufferedStdout(openSync(${JSON.stringify(file)}, 'w')));
      for (let i = 0; i < 3; i++) logger.info({ audit: true, n: i }, 'event');
      process.exit(0);
    `;
    execFileSync(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..'), stdio: 'pipe', timeout: 30_000 });
    expect(lines(file).map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([0, 1, 2]);
  });
});
