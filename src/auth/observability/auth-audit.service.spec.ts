import { randomBytes } from 'node:crypto';
import { AuthAudit, escapeControl } from './auth-audit.service';
import type { AuthMetrics } from './auth-metrics.service';
import type { Logger } from 'pino';
import { MacSecret } from '../tokens/mac-secret.loader';

describe('AuthAudit', () => {
  const keys = MacSecret.fromBytes(randomBytes(32));
  const metrics = { event: jest.fn() } as unknown as AuthMetrics;

  it('escapes control, format and separator characters', () => {
    expect(escapeControl('a\nb\r\u0000c\u202ed\u2028')).toBe('a\\u000ab\\u000d\\u0000c\\u202ed\\u2028');
    expect(escapeControl('plain ✓ text')).toBe('plain ✓ text');
  });

  it('logs one object per event: audit flag, event, ids, hashed address, escaped and bounded strings; counts the metric', () => {
    const info = jest.fn();
    const audit = new AuthAudit(keys, metrics, { info, level: 'info', isLevelEnabled: () => true } as unknown as Logger);
    audit.record('login.failure', { reason: 'x\n{"event":"forged"}'.padEnd(500, 'y'), userId: 'u1' }, { ip: '203.0.113.9' });
    expect(info).toHaveBeenCalledTimes(1);
    const [line, msg] = info.mock.calls[0];
    expect(msg).toBe('login.failure');
    expect(line).toEqual({ audit: true, event: 'login.failure', ipHash: expect.stringMatching(/^[\w-]{12}$/), reason: expect.any(String), userId: 'u1' });
    expect(JSON.stringify(line)).not.toContain('203.0.113.9');
    expect(line.reason).not.toContain('\n');
    expect(line.reason.length).toBeLessThanOrEqual(220);
    expect(metrics.event).toHaveBeenCalledWith('login.failure');
    // Same address, same hash (an operator can correlate); another address, another hash.
    expect(audit.hashIp('203.0.113.9')).toBe(line.ipHash);
    expect(audit.hashIp('203.0.113.10')).not.toBe(line.ipHash);
  });

  it('carries the reqId it is given', () => {
    const info = jest.fn();
    const audit = new AuthAudit(keys, metrics, { info, level: 'info', isLevelEnabled: () => true } as unknown as Logger);
    audit.record('logout', { userId: 'u1' }, { requestId: 'req-7' });
    expect(info.mock.calls[0][0]).toEqual({ audit: true, event: 'logout', reqId: 'req-7', userId: 'u1' });
  });

  it('below info, writes through one info-level child made once; silent writes nothing but still counts', () => {
    const childInfo = jest.fn();
    const child = jest.fn(() => ({ info: childInfo }));
    const quiet = new AuthAudit(keys, metrics, { info: jest.fn(), child, level: 'warn', isLevelEnabled: () => false } as unknown as Logger);
    quiet.record('refresh');
    quiet.record('refresh');
    expect(child).toHaveBeenCalledTimes(1);
    expect(child).toHaveBeenCalledWith({}, { level: 'info' });
    expect(childInfo).toHaveBeenCalledTimes(2);

    const silentInfo = jest.fn();
    const before = (metrics.event as jest.Mock).mock.calls.length;
    new AuthAudit(keys, metrics, { info: silentInfo, child, level: 'silent', isLevelEnabled: () => false } as unknown as Logger).record('refresh');
    expect(silentInfo).not.toHaveBeenCalled();
    expect(child).toHaveBeenCalledTimes(1);
    expect((metrics.event as jest.Mock).mock.calls.length).toBe(before + 1);
  });

  it('hashes an address the same way across instances of one deployment, and differently under another key', () => {
    const logger = { info: jest.fn(), level: 'info', isLevelEnabled: () => true } as unknown as Logger;
    const first = new AuthAudit(keys, metrics, logger).hashIp('198.51.100.1');
    expect(new AuthAudit(keys, metrics, logger).hashIp('198.51.100.1')).toBe(first);
    const otherDeployment = MacSecret.fromBytes(randomBytes(32));
    expect(new AuthAudit(otherDeployment, metrics, logger).hashIp('198.51.100.1')).not.toBe(first);
  });

  it("writes to a host's Nest LoggerService through log(), with the context AuthAudit", () => {
    const log = jest.fn();
    const audit = new AuthAudit(keys, metrics, { log, error: jest.fn(), warn: jest.fn() });
    audit.record('logout', { userId: 'u2', sid: 's2' }, { requestId: 'r-1' });
    expect(log).toHaveBeenCalledWith({ audit: true, event: 'logout', reqId: 'r-1', userId: 'u2', sid: 's2' }, 'AuthAudit');
  });
});
