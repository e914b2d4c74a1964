import { Inject, Injectable } from '@nestjs/common';
import { CREDENTIALS_PORT, type CredentialsPort } from '../credentials/credentials.port';
import { SessionLifecycleService, type SessionSummary } from './session-lifecycle.service';

/** Who acted, as the audit line's `operator`: an operator's name, or the host's service. */
const ACTOR = /^[\w.@:-]{1,64}$/;

function checkedActor(by: string): string {
  if (typeof by !== 'string' || !ACTOR.test(by)) throw new TypeError('SessionAdminService: `by` must be 1-64 characters of [A-Za-z0-9_.@:-]');
  return by;
}

/**
 * What the host's own code may do to a user's sessions outside that user's requests: an admin
 * panel, a role change that must apply at once (claims otherwise change at the next refresh), an
 * account closed, the operators' CLI. Every action is audited with `operator` = `by`. A session
 * ended here is refused at once on every instance, with its access tokens, as a logout is.
 */
@Injectable()
export class SessionAdminService {
  constructor(
    private readonly lifecycle: SessionLifecycleService,
    @Inject(CREDENTIALS_PORT) private readonly credentials: CredentialsPort,
  ) {}

  /** The user's live sessions (API and browser), newest use first as the user's own list has them. */
  listSessions(userId: string, by: string): Promise<SessionSummary[]> {
    return this.lifecycle.sessionsForOperator(userId, checkedActor(by));
  }

  /** Ends one session of the user. False: the user has no such live session. */
  revokeSession(userId: string, sessionId: string, by: string): Promise<boolean> {
    return this.lifecycle.revokeForOperator(userId, sessionId, checkedActor(by));
  }

  /** Ends every session of the user, API and browser, and their outstanding access tokens. */
  async revokeAllSessions(userId: string, by: string): Promise<void> {
    await this.lifecycle.revokeForOperator(userId, null, checkedActor(by));
  }

  /** Lifts the account-wide login lockout, as a successful sign-in would. False: no such account. */
  async unlockAccount(userId: string, by: string): Promise<boolean> {
    const actor = checkedActor(by);
    const account = await this.credentials.accountById(userId);
    if (!account) return false;
    await this.lifecycle.unlockForOperator(account.email, userId, actor);
    return true;
  }
}
