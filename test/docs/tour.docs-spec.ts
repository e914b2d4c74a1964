import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getFreePort } from '../support/free-port';
import { createTestApp, type TestApp } from '../support/test-app';
import { fences, readRepoFile, ROOT } from './markdown';

const run = promisify(execFile);
const TOUR = join(ROOT, 'scripts', 'tour.sh');

/** Runs scripts/tour.sh against BASE_URL; asynchronously, so the server in this process keeps answering. */
function tour(baseUrl: string): Promise<{ stdout: string; stderr: string }> {
  return run('bash', [TOUR], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BASE_URL: baseUrl }, timeout: 60_000 });
}

/** The quick-start tour: the README shows the script's lines, and the script works against the app. */
describe('the quick-start tour (scripts/tour.sh)', () => {
  it('the README shows exactly the lines the script runs', () => {
    const script = readRepoFile('scripts/tour.sh');
    const section = /\n# --- tour ---\n([\s\S]*?)# --- end of tour ---\n/.exec(script)?.[1];
    expect(section).toBeDefined();
    const shown = fences(readRepoFile('README.md')).filter((f) => f.lang === 'bash' && f.code === section);
    expect(shown).toHaveLength(1);
  });

  describe('against the app in its embedded default (in-memory stores, embedded user database)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp({ redis: false, database: 'embedded' });
    });
    afterAll(() => app?.close());

    it('registers, signs in, rotates, logs out (then refused), signs in again: /auth/me answers the user', async () => {
      const { port } = app.http.address() as { port: number };
      const { stdout } = await tour(`http://127.0.0.1:${port}`);
      const lines = stdout.trim().split('\n');
      const first = JSON.parse(lines[0]) as { sub: string; sid: string };
      expect(first).toEqual({ sub: expect.any(String), sid: expect.any(String) });
      expect(lines.slice(1)).toEqual(['/auth/me after logout: 401', `/auth/me: ${first.sub}`]);
    });
  });

  it('fails when the server does not answer', async () => {
    const nobody = `http://127.0.0.1:${await getFreePort()}`;
    await expect(tour(nobody)).rejects.toMatchObject({ stderr: expect.stringContaining('Failed to connect') });
  });
});
