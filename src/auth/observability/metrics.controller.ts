import { Controller, Get, Header, UseFilters } from '@nestjs/common';
import { AuthMetrics } from './auth-metrics.service';
import { Public } from '../access/public.decorator';
import { ProblemDetailsFilter } from '../http/problem-details.filter';

/**
 * Prometheus scrape endpoint. Public (a scraper has no user token) but carries no personal data:
 * counts and latencies only. Do not route it from the internet: block /metrics at the edge proxy
 * or ingress (docs/operations.md).
 */
@UseFilters(ProblemDetailsFilter)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: AuthMetrics) {}

  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
