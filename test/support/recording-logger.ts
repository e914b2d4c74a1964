import type { LoggerService } from '@nestjs/common';

export type NestLogLevel = 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose';

export interface RecordedLine {
  readonly level: NestLogLevel;
  /** The `new Logger('Context')` the line came from, if any. */
  readonly context: string | undefined;
  readonly message: string;
}

/**
 * A Nest logger that keeps its lines instead of printing them: a suite that provokes errors on
 * purpose (a store outage) passes it to createTestApp's `logger` and asserts on what was logged,
 * so a green run prints no alarming ERROR lines, and an unexpected one still fails the suite.
 */
export class RecordingLogger implements LoggerService {
  readonly lines: RecordedLine[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('fatal', message, rest);
  }

  /** The fatal, error and warn lines, as `LEVEL [Context] message`: what a console logger would have shown in red or yellow. */
  alarms(): string[] {
    return this.lines
      .filter((l) => l.level === 'fatal' || l.level === 'error' || l.level === 'warn')
      .map((l) => `${l.level.toUpperCase()} [${l.context ?? ''}] ${l.message}`);
  }

  clear(): void {
    this.lines.length = 0;
  }

  private record(level: NestLogLevel, message: unknown, rest: unknown[]): void {
    // Nest's Logger passes its context last (after an optional stack for errors).
    const last = rest.at(-1);
    const context = typeof last === 'string' ? last : undefined;
    this.lines.push({ level, context, message: message instanceof Error ? message.message : String(message) });
  }
}
