/**
 * The usual NestJS recipe, kept only as the benchmark's point of comparison:
 * AuthGuard('jwt') from @nestjs/passport + passport-jwt with the public key given as a PEM
 * string, and a Redis GET per request against a denylist. Not part of the product.
 */
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, Req, UnauthorizedException, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { ExtractJwt, Strategy } from 'passport-jwt';

const REDIS = 'REDIS';

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(REDIS) private readonly redis: Redis) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: readFileSync(process.env.JWT_PUBLIC_KEY_PATH as string, 'utf8'),
      algorithms: ['ES256'],
      issuer: process.env.JWT_ISSUER ?? 'auth-domain',
      audience: process.env.JWT_AUDIENCE ?? 'api',
    });
  }

  async validate(payload: { sub: string; sid: string; jti: string }): Promise<{ sub: string; sid: string }> {
    if (await this.redis.get(`denylist:${payload.sid}`)) throw new UnauthorizedException();
    return { sub: payload.sub, sid: payload.sid };
  }
}

@Controller()
class BaselineController {
  @Get('health/live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('auth/me')
  me(@Req() req: { user: { sub: string; sid: string } }): { sub: string; sid: string } {
    return req.user;
  }
}

@Module({
  imports: [PassportModule],
  controllers: [BaselineController],
  providers: [JwtStrategy, { provide: REDIS, useFactory: () => new Redis(process.env.REDIS_URL as string) }],
})
class BaselineModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(BaselineModule, { logger: ['error'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.send?.('ready');
}
void main();
