import type { AttemptKeyer } from '../abuse/attempt-keys';
import { MemoryLoginAttemptStore } from '../abuse/login-attempt-store.memory-adapter';
import { MemoryRateLimitStore } from '../abuse/rate-limit-store.memory-adapter';
import { resolveAuthSettings } from '../common/auth-settings';
import type { AccountView, CredentialsPort } from '../credentials/credentials.port';
import { AuthError, storeUnavailable } from '../errors/auth-error.model';
import { MailOutbox } from '../mail/mail-outbox.service';
import type { MailMessage } from '../mail/mail.port';
import type { AuthAudit } from '../observability/auth-audit.service';
import type { SessionLifecycleService } from '../sessions/session-lifecycle.service';
import { AccountRecoveryService } from './account-recovery.service';
import { MemoryRecoveryTokenStore } from './recovery-token-store.memory-adapter';

/**
 * The service around the ports: what an address-naming request does before it answers (and what
 * it leaves to the outbox), and the order of the reset's steps. The flows end to end, over SMTP,
 * are in test/e2e/account-recovery.e2e-spec.ts.
 */
describe('AccountRecoveryService', () => {
  const ada: AccountView = { id: 'user-ada', email: 'ada@example.com', emailVerified: false, passwordStamp: 'stamp-1' };
  const never = new Promise<never>(() => undefined);

  function setup(over: Partial<CredentialsPort> = {}) {
    const sent: MailMessage[] = [];
    const audit = { record: jest.fn() } as unknown as AuthAudit;
    const outbox = new MailOutbox({ send: async (m) => void sent.push(m) }, audit, { attempts: 1, retryDelaysMs: [0], concurrency: 1, maxPending: 10 });
    const credentials = {
      accountByEmail: jest.fn(async (email: string) => (email === ada.email ? ada : null)),
      accountById: jest.fn(async (id: string) => (id === ada.id ? ada : null)),
      markEmailVerified: jest.fn(async () => true),
      checkNewPassword: jest.fn(async () => ({ ok: true as const })),
      resetPassword: jest.fn(async () => ({ ok: true as const })),
      ...over,
    } as unknown as CredentialsPort;
    const limits = new MemoryRateLimitStore();
    const sessions = { endAllSessions: jest.fn(async () => undefined) };
    const service = new AccountRecoveryService(
      credentials,
      new MemoryRecoveryTokenStore(),
      limits,
      new MemoryLoginAttemptStore(),
      // The keyer's normalisation (attempt-keys.ts), without its key material: how the MAC key is held is not this spec's concern.
      { keys: (email: string) => ({ account: `a:${email.trim().normalize('NFKC').toLowerCase()}`, source: 's' }) } as unknown as AttemptKeyer,
      resolveAuthSettings({ browser: { publicOrigins: ['https://app.example.com'] } }),
      { now: () => Date.now() },
      outbox,
      sessions as unknown as SessionLifecycleService,
      audit,
    );
    return { service, credentials, sent, outbox, limits, sessions };
  }
  const tokenOf = (m: MailMessage): string => new URL(m.link).searchParams.get('token') as string;

  it('forgot answers without waiting for the account lookup: the answer cannot depend on it', async () => {
    const { service, credentials } = setup({ accountByEmail: jest.fn(() => never) });
    await expect(service.forgotPassword('ada@example.com', 'http://ignored', {})).resolves.toBeUndefined();
    await expect(service.forgotPassword('nobody@example.com', 'http://ignored', {})).resolves.toBeUndefined();
    expect(credentials.accountByEmail).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(credentials.accountByEmail).toHaveBeenCalledTimes(1);
  });

  it('resend answers without waiting for the lookup either', async () => {
    const { service } = setup({ accountByEmail: jest.fn(() => never) });
    await expect(service.resendVerification('ada@example.com', 'http://ignored', {})).resolves.toBeUndefined();
  });

  it('mails only a known address, with a link to the first public origin (never the request\u2019s)', async () => {
    const { service, sent, outbox } = setup();
    await service.forgotPassword('nobody@example.com', 'https://evil.example', {});
    await service.forgotPassword('ada@example.com', 'https://evil.example', {});
    await outbox.idle();
    expect(sent.map((m) => m.to)).toEqual(['ada@example.com']);
    expect(sent[0].link).toMatch(/^https:\/\/app\.example\.com\/signin\/reset\?token=/);
  });

  it('the per-account limit counts unknown addresses like known ones, whatever the case typed', async () => {
    const { service } = setup();
    for (const email of ['ada@example.com', 'nobody@example.com']) {
      for (let i = 0; i < 3; i++) await service.forgotPassword(i === 1 ? email.toUpperCase() : email, 'x', {});
      await expect(service.forgotPassword(email, 'x', {})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      // Another kind of mail has its own count.
      await expect(service.resendVerification(email, 'x', {})).resolves.toBeUndefined();
    }
  });

  it('the limiter\u2019s store down: STORE_UNAVAILABLE for any address, and nothing queued', async () => {
    const { service, limits, credentials, outbox } = setup();
    jest.spyOn(limits, 'increment').mockRejectedValue(storeUnavailable());
    await expect(service.forgotPassword('ada@example.com', 'x', {})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(service.forgotPassword('nobody@example.com', 'x', {})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await outbox.idle();
    expect(credentials.accountByEmail).not.toHaveBeenCalled();
  });

  it('reset: a refused password leaves the token; then consume, set, end every session, in that order', async () => {
    const steps: string[] = [];
    const { service, sent, outbox, sessions } = setup({
      checkNewPassword: jest.fn(async (_id: string, pw: string) => {
        steps.push('check');
        return pw === 'weak' ? { ok: false as const, reason: 'PASSWORD_REJECTED' as const, detail: 'too weak' } : { ok: true as const };
      }),
      resetPassword: jest.fn(async () => (steps.push('set'), { ok: true as const })),
    });
    sessions.endAllSessions.mockImplementation(async () => void steps.push('end sessions'));
    await service.forgotPassword('ada@example.com', 'x', {});
    await outbox.idle();
    const token = tokenOf(sent[0]);
    await expect(service.resetPassword(token, 'weak', {})).rejects.toMatchObject({ code: 'PASSWORD_REJECTED', options: { detail: 'too weak' } });
    await service.resetPassword(token, 'strong enough now', {});
    expect(steps).toEqual(['check', 'check', 'set', 'end sessions']);
    const again = service.resetPassword(token, 'strong enough now', {});
    await expect(again).rejects.toBeInstanceOf(AuthError);
    await expect(again).rejects.toMatchObject({ code: 'RECOVERY_TOKEN_INVALID' });
    expect(steps).toHaveLength(4);
  });

  it('a token whose account is gone is invalid, like any other bad token', async () => {
    const { service, sent, outbox, credentials } = setup();
    await service.forgotPassword('ada@example.com', 'x', {});
    await outbox.idle();
    (credentials.accountById as jest.Mock).mockResolvedValue(null);
    await expect(service.resetPassword(tokenOf(sent[0]), 'strong enough now', {})).rejects.toMatchObject({ code: 'RECOVERY_TOKEN_INVALID' });
  });
});
