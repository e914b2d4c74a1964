import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SwaggerModule, DocumentBuilder } from '@nestjs/swagger';
import { AUTH_ERROR_CODES } from '../errors/auth-error.model';
import { AUTH_ROUTES } from '../http/method-not-allowed.controller';
import { ApiProblems, OPERATION_PROBLEMS, PROBLEM_JSON, problemsByStatus } from './auth-openapi.problems';

describe('OPERATION_PROBLEMS', () => {
  it('has one row per route and method of AUTH_ROUTES, and no other', () => {
    const routes = Object.entries(AUTH_ROUTES).flatMap(([path, methods]) => methods.map((m) => `${m} ${path}`));
    expect(Object.keys(OPERATION_PROBLEMS).sort()).toEqual(routes.sort());
  });

  it('lists only codes of the error catalogue, each once per row', () => {
    for (const [operation, codes] of Object.entries(OPERATION_PROBLEMS)) {
      for (const code of codes) expect([operation, code in AUTH_ERROR_CODES]).toEqual([operation, true]);
    }
  });

  it('groups codes by the status the catalogue gives them, in ascending order, without repeats', () => {
    const grouped = problemsByStatus(['RATE_LIMITED', 'VALIDATION_FAILED', 'STORE_UNAVAILABLE', 'MALFORMED_JSON', 'RATE_LIMITED', 'STORE_UNAVAILABLE']);
    expect([...grouped]).toEqual([
      [400, ['VALIDATION_FAILED', 'MALFORMED_JSON']],
      [429, ['RATE_LIMITED']],
      [503, ['STORE_UNAVAILABLE']],
    ]);
  });
});

describe('@ApiProblems', () => {
  @Controller('probe')
  class ProbeController {
    @ApiProblems('POST auth/login')
    @Get()
    probe(): void {}
  }

  it("adds one problem+json response per status of the operation's codes, with `code` narrowed to them", async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [ProbeController] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
      const responses = doc.paths['/probe'].get!.responses as Record<string, { description: string; content: Record<string, { schema: unknown }> }>;
      const expected = problemsByStatus(OPERATION_PROBLEMS['POST auth/login']);
      expect(Object.keys(responses).sort()).toEqual([...expected.keys()].map(String).sort());
      expect([...expected.keys()]).toEqual([400, 401, 403, 413, 415, 429, 500, 503]);
      for (const [status, codes] of expected) {
        const response = responses[String(status)];
        expect(Object.keys(response.content)).toEqual([PROBLEM_JSON]);
        expect(response.content[PROBLEM_JSON].schema).toEqual({
          allOf: [{ $ref: '#/components/schemas/ProblemDetails' }, { type: 'object', properties: { code: { type: 'string', enum: codes } } }],
        });
        for (const code of codes) expect(response.description).toContain(`\`${code}\`: ${AUTH_ERROR_CODES[code].title}`);
      }
      expect(responses['401'].content[PROBLEM_JSON].schema).toMatchObject({ allOf: [{}, { properties: { code: { enum: ['INVALID_CREDENTIALS'] } } }] });
      expect(doc.components?.schemas?.ProblemDetails).toMatchObject({ required: ['type', 'title', 'status', 'code'] });
    } finally {
      await app.close();
    }
  });
});
