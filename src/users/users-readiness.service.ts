import { Inject, Injectable } from '@nestjs/common';
import type { SqlClient } from './sql-client';
import { SQL_CLIENT } from './users.module-tokens';

/** Whether the user database answers: a trivial query with the pool's own timeouts. */
@Injectable()
export class UsersReadiness {
  constructor(@Inject(SQL_CLIENT) private readonly client: SqlClient) {}

  async check(): Promise<'up' | 'down'> {
    try {
      await this.client.query('SELECT 1');
      return 'up';
    } catch {
      return 'down';
    }
  }
}
