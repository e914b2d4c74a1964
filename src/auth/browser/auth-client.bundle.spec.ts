import { bundleModule, compileClient, currentBundle } from '../../../scripts/build-client';
import { AUTH_CLIENT_JS } from './auth-client.bundle';

describe('auth-client.bundle.ts (the browser client the sign-in page serves)', () => {
  it('is the current compilation of client/src: run `npm run build:client` after changing the client', () => {
    const js = compileClient();
    expect(currentBundle()).toBe(bundleModule(js));
    expect(AUTH_CLIENT_JS).toBe(js);
    // A browser module without a bundler: no imports to resolve.
    expect(js).not.toMatch(/^\s*import\s/m);
    expect(js).toContain('export function createAuthClient(');
  });
});
