import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { bearer, createTestApp, eventually, expectProblem, login, PASSWORD, registerAndLogin, type TestApp } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

/**
 * `npm run auth -- …` against the server's real Redis and PostgreSQL: what the operator does shows
 * on the running server (sessions listed, revoked, an account unlocked), and every action is an
 * audit line carrying the operator's name.
 */
describe('admin CLI (npm run auth) against Redis and PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => t?.close());

  /** The CLI in the server's environment (only it), as operator "ops-alice". */
  async function cli(...args: string[]): Promise<{ code: number; lines: string[]; audit: Array<Record<string, unknown>>; stderr: string }> {
    const env = { PATH: process.env.PATH ?? '', ...t.env, LOG_LEVEL: 'info', AUTH_OPERATOR: 'ops-alice' };
    const r = await promisify(execFile)(process.execPath, [TS_NODE, '--transpile-only', 'scripts/auth.ts', ...args], { cwd: ROOT, env, encoding: 'utf8' }).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    const all = r.stdout.split('\n').filter(Boolean);
    const json = all.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code: r.code, lines: all.filter((l) => !l.startsWith('{')), audit: json.filter((l) => l.audit === true), stderr: r.stderr };
  }
  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));

  it('lists a user\'s sessions by email, revokes one, then all; the server refuses their tokens', async () => {
    const first = await registerAndLogin(t.http, { tag: 'cli' });
    const second = await login(t.http, first.email);

    const listed = await cli('sessions', first.email);
    expect(listed.code).toBe(0);
    expect(listed.lines[0]).toBe(`2 live session(s) of user ${first.userId}`);
    expect(listed.lines.slice(1).map((l) => l.split(' ')[0]).sort()).toEqual([first.sid, second.sid].sort());
    expect(listed.audit).toEqual([expect.objectContaining({ event: 'sessions.listed', userId: first.userId, operator: 'ops-alice', count: 2 })]);

    const one = await cli('revoke', first.email, first.sid);
    expect(one.code).toBe(0);
    expect(one.audit).toEqual([expect.objectContaining({ event: 'session.revoked', userId: first.userId, sid: first.sid, operator: 'ops-alice' })]);
    // The server learns it through the revocation feed.
    expect(await eventually(async () => (await me(first.accessToken)).status === 401)).toBe(true);
    expectProblem(await me(first.accessToken), 401, 'SESSION_REVOKED');
    expect((await me(second.accessToken)).status).toBe(200);

    const all = await cli('revoke', first.email, '--all');
    expect(all.code).toBe(0);
    expect(all.audit).toEqual([expect.objectContaining({ event: 'logout_all', userId: first.userId, operator: 'ops-alice' })]);
    expect(await eventually(async () => (await me(second.accessToken)).status === 401)).toBe(true);
    expect((await cli('sessions', first.email)).lines[0]).toBe(`0 live session(s) of user ${first.userId}`);
  }, 60_000);

  it('unlocks an account locked by failures from many addresses', async () => {
    const { email, userId } = await registerAndLogin(t.http, { tag: 'locked' });
    const attempt = (ip: string, password: string) =>
      request(t.http).post('/auth/login').set('X-Forwarded-For', ip).send({ email, password, refreshTokenDelivery: 'body' });
    // 12 failures from 12 addresses: each address is under its own limit, the account is over its.
    for (let i = 1; i <= 12; i++) expectProblem(await attempt(`203.0.113.${i}`, 'wrong password'), 401, 'INVALID_CREDENTIALS');
    expectProblem(await attempt('203.0.113.100', PASSWORD), 401, 'INVALID_CREDENTIALS');

    const unlocked = await cli('unlock', email);
    expect(unlocked.code).toBe(0);
    expect(unlocked.audit).toEqual([expect.objectContaining({ event: 'account.unlocked', userId, operator: 'ops-alice' })]);
    expect((await attempt('203.0.113.101', PASSWORD)).status).toBe(200);
  }, 60_000);

  it('answers a mistake with one line and exit code 1, changing nothing', async () => {
    for (const args of [[], ['sessions'], ['revoke', 'x@example.com'], ['frobnicate', 'x@example.com']]) {
      const r = await cli(...args);
      expect({ args, code: r.code, stderr: r.stderr.split('\n')[0] }).toEqual({ args, code: 1, stderr: expect.stringContaining('usage: npm run auth --') });
    }
    const unknown = await cli('sessions', 'nobody-here@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('auth: no account with the email "nobody-here@example.com"\n');
    const keys = await cli('keys');
    expect(keys.stderr).toContain('npm run keys -- generate');
    const { email } = await registerAndLogin(t.http, { tag: 'cli-bad-sid' });
    const bad = await cli('revoke', email, 'not-a-session');
    expect(bad.code).toBe(1);
    expect(bad.audit).toEqual([]);
  }, 120_000);
});
