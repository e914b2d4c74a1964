import { Controller, Get, Module } from '@nestjs/common';
import request from 'supertest';
import { CurrentUser, RequireClaims, RequireRole, SessionAdminService, type UserClaims } from '../../src/auth';
import { accessTokenFor } from '../../src/auth/testing';
import { bearer, createTestApp, expectProblem, type TestApp } from '../support/test-app';

/**
 * Roles and claims under the global guard: a route's @RequireRole / @RequireClaims refuses a
 * token without them with 403 FORBIDDEN (audited as access.forbidden), and @CurrentUser() gives
 * the claims the token carries. (The opt-in guard and passport: host.e2e-spec.)
 */
@Controller('tenant-admin')
@RequireClaims({ tenant: 'acme' })
class TenantAdminController {
  @Get('whoami')
  whoami(@CurrentUser('claims') claims: UserClaims): UserClaims {
    return claims;
  }

  @Get('billing')
  @RequireRole('admin', 'billing')
  billing(@CurrentUser('sub') userId: string): { billedBy: string } {
    return { billedBy: userId };
  }
}
@Module({ controllers: [TenantAdminController] })
class TenantAdminModule {}

describe('roles and claims (global guard)', () => {
  let t: TestApp;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    t = await createTestApp({
      imports: [TenantAdminModule],
      env: { LOG_LEVEL: 'info' },
      logDestination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
    });
  });
  afterAll(() => t?.close());
  const get = async (path: string, claims?: UserClaims) =>
    request(t.http).get(path).set('Authorization', bearer(await accessTokenFor(t.app, 'user-r', { claims })));

  it('@CurrentUser() gives the claims the token carries', async () => {
    const res = await get('/tenant-admin/whoami', { tenant: 'acme', roles: ['viewer'] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tenant: 'acme', roles: ['viewer'] });
  });

  it('a route needing every listed role: all of them pass, one missing is 403 FORBIDDEN', async () => {
    const ok = await get('/tenant-admin/billing', { tenant: 'acme', roles: ['admin', 'billing', 'viewer'] });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ billedBy: 'user-r' });
    expectProblem(await get('/tenant-admin/billing', { tenant: 'acme', roles: ['admin'] }), 403, 'FORBIDDEN');
  });

  it("the class's requirement holds for every route: another tenant, or no claims, is 403 FORBIDDEN", async () => {
    expectProblem(await get('/tenant-admin/whoami', { tenant: 'other' }), 403, 'FORBIDDEN');
    expectProblem(await get('/tenant-admin/billing', { tenant: 'other', roles: ['admin', 'billing'] }), 403, 'FORBIDDEN');
    expectProblem(await get('/tenant-admin/whoami'), 403, 'FORBIDDEN');
  });

  it('no token is still 401 ACCESS_TOKEN_MISSING, not 403', async () => {
    expectProblem(await request(t.http).get('/tenant-admin/whoami'), 401, 'ACCESS_TOKEN_MISSING');
  });

  it('a refusal is audited as access.forbidden with the user, the session and what was required', async () => {
    lines.length = 0;
    await get('/tenant-admin/billing', { tenant: 'acme', roles: ['viewer'] });
    const audited = lines.filter((l) => l.audit === true && l.event === 'access.forbidden');
    expect(audited).toEqual([expect.objectContaining({ userId: 'user-r', sid: expect.any(String), reqId: expect.any(String), reason: 'requires roles=admin+billing' })]);
  });

  it('a role change that must apply at once: the host ends the sessions with SessionAdminService, the old token is refused', async () => {
    const admin = t.app.get(SessionAdminService);
    const token = await accessTokenFor(t.app, 'user-demoted', { claims: { tenant: 'acme', roles: ['admin', 'billing'] } });
    const before = await request(t.http).get('/tenant-admin/billing').set('Authorization', bearer(token));
    expect(before.status).toBe(200);
    const sessions = await admin.listSessions('user-demoted', 'role-service');
    expect(sessions).toHaveLength(1);
    lines.length = 0;
    await admin.revokeAllSessions('user-demoted', 'role-service');
    expectProblem(await request(t.http).get('/tenant-admin/billing').set('Authorization', bearer(token)), 401, 'SESSION_REVOKED');
    expect(await admin.listSessions('user-demoted', 'role-service')).toEqual([]);
    expect(lines.filter((l) => l.audit === true && l.event === 'logout_all')).toEqual([
      expect.objectContaining({ userId: 'user-demoted', operator: 'role-service', reason: 'by operator' }),
    ]);
  });

  it('SessionAdminService: one session ends, another lives; an unknown one is false; the actor is checked', async () => {
    const admin = t.app.get(SessionAdminService);
    const keep = await accessTokenFor(t.app, 'user-two-devices', { claims: { tenant: 'acme' } });
    const end = await accessTokenFor(t.app, 'user-two-devices', { claims: { tenant: 'acme' } });
    const sid = (JSON.parse(Buffer.from(end.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
    expect(await admin.revokeSession('user-two-devices', sid, 'support:alice')).toBe(true);
    expect(await admin.revokeSession('user-two-devices', sid, 'support:alice')).toBe(false);
    expectProblem(await request(t.http).get('/tenant-admin/whoami').set('Authorization', bearer(end)), 401, 'SESSION_REVOKED');
    expect((await request(t.http).get('/tenant-admin/whoami').set('Authorization', bearer(keep))).status).toBe(200);
    expect(() => admin.listSessions('user-two-devices', 'not a name')).toThrow(TypeError);
    expect(await admin.unlockAccount('no-such-user', 'support:alice')).toBe(false);
  });
});
