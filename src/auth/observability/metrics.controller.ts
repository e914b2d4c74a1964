import { Controller, Get, Header, UseFilters } from '@nestjs/common';
import { AuthMetrics } from './auth-metrics.service';
import { Public } from '../access/public.decorator';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../openapi/auth-openapi.problems';

/**
 * Prometheus scrape endpoint. Public (a scraper has no user token) but carries no personal data:
 * counts and latencies only. Do not route it from the internet: block /metrics at the edge proxy
 * or ingress (docs/operations.md).
 */
@ApiTags('operations')
@UseFilters(ProblemDetailsFilter)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: AuthMetrics) {}

  @ApiOperation({ summary: 'Prometheus metrics (block it at the edge: not for the internet)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format (`text/plain; version=0.0.4`).', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiProblems('GET metrics')
  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
