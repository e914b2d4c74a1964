import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AuthReadiness, Public, ReadinessReport } from '../auth';

@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly auth: AuthReadiness) {}

  /** Liveness: the process answers. No I/O. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the stores answer. 503 while any is down, so a balancer stops sending traffic. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: 'ok' | 'unavailable'; checks: ReadinessReport['checks'] }> {
    const report = await this.auth.check();
    res.setHeader('Cache-Control', 'no-store');
    if (!report.ready) res.status(503);
    return { status: report.ready ? 'ok' : 'unavailable', checks: report.checks };
  }
}
