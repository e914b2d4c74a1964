import pino from 'pino';
import { PinoNestLogger } from './pino-nest-logger.service';

describe('PinoNestLogger', () => {
  function capture(level = 'trace'): { nest: PinoNestLogger; lines: () => Array<Record<string, unknown>> } {
    const raw: string[] = [];
    const nest = new PinoNestLogger(pino({ level, timestamp: pino.stdTimeFunctions.isoTime }, { write: (s: string) => void raw.push(s) }));
    return { nest, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it("writes Nest's levels as pino levels, with Nest's context as `context`", () => {
    const { nest, lines } = capture();
    nest.log('listening', 'Bootstrap');
    nest.warn('careful');
    nest.debug('d', 'Ctx');
    nest.verbose('v', 'Ctx');
    nest.fatal('f', 'Ctx');
    expect(lines().map(({ level, msg, context }) => ({ level, msg, context }))).toEqual([
      { level: 30, msg: 'listening', context: 'Bootstrap' },
      { level: 40, msg: 'careful', context: undefined },
      { level: 20, msg: 'd', context: 'Ctx' },
      { level: 10, msg: 'v', context: 'Ctx' },
      { level: 60, msg: 'f', context: 'Ctx' },
    ]);
    expect(lines()[0].time).toMatch(/Z$/);
  });

  it('logs an Error as `err`, an object as fields, and the (message, stack, context) contract as an error with that stack', () => {
    const { nest, lines } = capture();
    nest.error(new Error('boom'), 'Errors');
    nest.log({ a: 1 }, 'Ctx');
    nest.error('failed', 'Error: failed\n    at somewhere (x.ts:1:1)', 'ExceptionsHandler');
    const [err, obj, handler] = lines();
    expect(err).toEqual(expect.objectContaining({ level: 50, context: 'Errors', err: expect.objectContaining({ message: 'boom' }) }));
    expect(obj).toEqual(expect.objectContaining({ level: 30, context: 'Ctx', a: 1 }));
    expect(handler).toEqual(
      expect.objectContaining({ context: 'ExceptionsHandler', err: expect.objectContaining({ message: 'failed', stack: expect.stringContaining('at somewhere') }) }),
    );
  });

  it("follows the logger's level", () => {
    const { nest, lines } = capture('warn');
    nest.log('quiet', 'Ctx');
    nest.error('loud', undefined, 'Ctx');
    expect(lines().map((l) => l.msg)).toEqual(['loud']);
  });
});
