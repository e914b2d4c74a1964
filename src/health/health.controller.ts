import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AuthReadiness, Public, ReadinessReport } from '../auth';
import { UsersReadiness } from '../users';

@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly auth: AuthReadiness,
    private readonly users: UsersReadiness,
  ) {}

  /** Liveness: the process answers. No I/O. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the stores answer. 503 while any is down, so a balancer stops sending traffic. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: 'ok' | 'unavailable'; checks: ReadinessReport['checks'] & { userDatabase: 'up' | 'down' } }> {
    const [report, userDatabase] = await Promise.all([this.auth.check(), this.users.check()]);
    const ready = report.ready && userDatabase === 'up';
    res.setHeader('Cache-Control', 'no-store');
    if (!ready) res.status(503);
    return { status: ready ? 'ok' : 'unavailable', checks: { ...report.checks, userDatabase } };
  }
}
