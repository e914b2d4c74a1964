/**
 * The lifecycle every contract suite shares: build the adapter under test once per suite (it may
 * start a server), tear it down after. Returns an accessor that fails loudly if the build failed.
 */
export function useFixture<F extends { cleanup(): Promise<void> }>(factory: () => Promise<F>): () => F {
  let fixture: F | undefined;
  beforeAll(async () => {
    fixture = await factory();
  }, 60_000);
  afterAll(async () => {
    await fixture?.cleanup();
  }, 30_000);
  return () => {
    if (!fixture) throw new Error('fixture not initialised (see the beforeAll error above)');
    return fixture;
  };
}
