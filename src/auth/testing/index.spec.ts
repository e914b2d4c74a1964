import type { INestApplication } from '@nestjs/common';
import { accessTokenFor, decodePayload, revokeTestSession } from './index';

describe('auth testing kit', () => {
  const saved = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = saved;
  });
  /** An application the kit must never reach: any lookup fails the test. */
  const app = {
    get: () => {
      throw new Error('the kit looked into the application');
    },
  } as unknown as INestApplication;

  it('refuses to run with NODE_ENV=production, before touching the application', async () => {
    process.env.NODE_ENV = 'production';
    await expect(accessTokenFor(app, 'u1')).rejects.toThrow('refuses to run with NODE_ENV=production');
    await expect(revokeTestSession(app, 'a.b.c')).rejects.toThrow('refuses to run with NODE_ENV=production');
  });

  it('refuses an empty user id', async () => {
    process.env.NODE_ENV = 'test';
    await expect(accessTokenFor(app, '')).rejects.toThrow('userId must be a non-empty string');
  });

  it('reads the user and session ids of a token, and refuses what is not one', () => {
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(decodePayload(`${b64({ alg: 'ES256' })}.${b64({ sub: 'u1', sid: 's1', exp: 1 })}.sig`)).toEqual({ sub: 'u1', sid: 's1' });
    expect(() => decodePayload(`${b64({})}.${b64({ sub: 'u1' })}.sig`)).toThrow('not an access token');
  });
});
