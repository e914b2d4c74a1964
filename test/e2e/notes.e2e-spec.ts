import { Controller, Module, Post } from '@nestjs/common';
import request from 'supertest';
import { CurrentUser, RequireRecentAuth } from '../../src/auth';
import { accessTokenFor, revokeTestSession } from '../../src/auth/testing';
import { bearer, expectProblem, createTestApp, type TestApp } from '../support/test-app';

/**
 * The notes feature's e2e suite, written the way a consuming team writes theirs: the real
 * application (Redis, PostgreSQL), and a token per test user from the auth testing kit instead
 * of registration and a password login. Copy this file's shape for your own feature.
 */

/** A sensitive route of a feature, to show `authTime`. */
@Controller('notes-admin')
class NotesAdminController {
  @Post('purge')
  @RequireRecentAuth(300)
  purge(@CurrentUser('sub') userId: string): { purgedFor: string } {
    return { purgedFor: userId };
  }
}
@Module({ controllers: [NotesAdminController] })
class NotesAdminModule {}

describe('notes (e2e, with the auth testing kit)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [NotesAdminModule] });
  });
  afterAll(() => t?.close());

  const notes = (token: string) => ({
    list: () => request(t.http).get('/notes').set('Authorization', bearer(token)),
    add: (body: object) => request(t.http).post('/notes').set('Authorization', bearer(token)).send(body),
    remove: (id: string) => request(t.http).delete(`/notes/${id}`).set('Authorization', bearer(token)),
  });

  it("works with a token, and users cannot see or delete each other's notes", async () => {
    const alice = notes(await accessTokenFor(t.app, 'alice-id'));
    const bob = notes(await accessTokenFor(t.app, 'bob-id'));

    const created = await alice.add({ text: 'alice secret' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), text: 'alice secret', createdAt: expect.any(String) });
    expect((await alice.list()).body).toEqual({ notes: [created.body] });
    expect((await bob.list()).body).toEqual({ notes: [] });

    // The feature's own NotFoundException, in Nest's format: auth does not rewrite it.
    const notBobs = await bob.remove(created.body.id);
    expect(notBobs.status).toBe(404);
    expect(notBobs.body).toEqual({ statusCode: 404, error: 'Not Found', message: `note ${created.body.id} not found` });
    expect((await alice.list()).body.notes).toHaveLength(1);
    expect((await alice.remove(created.body.id)).status).toBe(204);
    expect((await alice.list()).body).toEqual({ notes: [] });
  });

  it("validates note bodies with Nest's ValidationPipe, answering in Nest's format", async () => {
    const res = await notes(await accessTokenFor(t.app, 'carol-id')).add({ text: '', extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.arrayContaining(['property extra should not exist', 'text must be longer than or equal to 1 characters']),
    });
  });

  it('without a token: 401 ACCESS_TOKEN_MISSING; with an expired one: 401 ACCESS_TOKEN_EXPIRED', async () => {
    expectProblem(await request(t.http).get('/notes'), 401, 'ACCESS_TOKEN_MISSING');
    expectProblem(await notes(await accessTokenFor(t.app, 'dave-id', { expired: true })).list(), 401, 'ACCESS_TOKEN_EXPIRED');
  });

  it('a revoked session is refused: 401 SESSION_REVOKED, and only that session', async () => {
    const token = await accessTokenFor(t.app, 'erin-id');
    const other = await accessTokenFor(t.app, 'erin-id');
    expect((await notes(token).list()).status).toBe(200);
    await revokeTestSession(t.app, token);
    expectProblem(await notes(token).list(), 401, 'SESSION_REVOKED');
    expect((await notes(other).list()).status).toBe(200);
  });

  it("the kit's session is a real one: listed by GET /auth/sessions, ended by POST /auth/logout", async () => {
    const token = await accessTokenFor(t.app, 'frank-id');
    const sessions = await request(t.http).get('/auth/sessions').set('Authorization', bearer(token));
    expect(sessions.status).toBe(200);
    expect(sessions.body.sessions).toEqual([expect.objectContaining({ kind: 'api', current: true })]);
    expect((await request(t.http).post('/auth/logout').set('Authorization', bearer(token))).status).toBe(204);
    expectProblem(await notes(token).list(), 401, 'SESSION_REVOKED');
  });

  it('authTime drives @RequireRecentAuth: a sign-in an hour ago is too old for a 5-minute route', async () => {
    const fresh = await accessTokenFor(t.app, 'gina-id');
    const stale = await accessTokenFor(t.app, 'gina-id', { authTime: new Date(Date.now() - 3600_000) });
    const purge = (token: string) => request(t.http).post('/notes-admin/purge').set('Authorization', bearer(token));
    const ok = await purge(fresh);
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ purgedFor: 'gina-id' });
    expectProblem(await purge(stale), 401, 'REAUTHENTICATION_REQUIRED');
  });
});
