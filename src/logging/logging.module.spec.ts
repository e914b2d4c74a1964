import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LogDestinationLifecycle, logDestination } from './logging.module';

describe('the log destination', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-dest-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('holds small lines for a moment, then writes them all, in order, within the flush period', async () => {
    const file = join(dir, 'periodic.log');
    const fd = openSync(file, 'w');
    const dest = logDestination(fd);
    const logger = pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, dest);
    for (let i = 0; i < 5; i++) logger.info({ audit: true, n: i }, 'event');
    expect(lines(file)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 400));
    const written = lines(file).map((l) => JSON.parse(l) as { n: number; time: string });
    expect(written.map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
    expect(written[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Stops the flush timer and closes the descriptor.
    dest.destroy();
  });

  it('writes what is pending when the application shuts down', () => {
    const file = join(dir, 'shutdown.log');
    const fd = openSync(file, 'w');
    const dest = logDestination(fd);
    pino({ level: 'info' }, dest).info({ audit: true, n: 1 }, 'event');
    expect(lines(file)).toHaveLength(0);
    new LogDestinationLifecycle(dest).onApplicationShutdown();
    expect(lines(file)).toHaveLength(1);
    // Stops the flush timer and closes the descriptor.
    dest.destroy();
  });

  it('loses nothing when the process exits right after logging', () => {
    const file = join(dir, 'exit.log');
    const script = `
      const { openSync } = require('node:fs');
      require('ts-node').register({ transpileOnly: true });
      const pino = require('pino');
      const { logDestination } = require(${JSON.stringify(join(__dirname, 'logging.module.ts'))});
      const logger = pino({ level: 'info' }, logDestination(openSync(${JSON.stringify(file)}, 'w')));
      for (let i = 0; i < 3; i++) logger.info({ audit: true, n: i }, 'event');
      process.exit(0);
    `;
    execFileSync(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..'), stdio: 'pipe', timeout: 30_000 });
    expect(lines(file).map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([0, 1, 2]);
  });
});
