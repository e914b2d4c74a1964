/**
 * Writes the OpenAPI document (the one /openapi.json serves) to a file, without Redis or
 * PostgreSQL: the app boots embedded, in memory, with throw-away development keys.
 *
 *   npm run openapi                 docs/openapi.json
 *   npm run openapi -- <path>       elsewhere ('-' for stdout)
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'docs/openapi.json';
  const keys = mkdtempSync(join(tmpdir(), 'openapi-keys-'));
  // Only these variables (the shell's REDIS_URL, cookie settings… would change the boot or the
  // document): the same document on every machine.
  process.env = {
    PATH: process.env.PATH,
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    EMBEDDED_DATA_DIR: ':memory:',
    JWT_PRIVATE_KEY_PATH: join(keys, 'private.pem'),
    JWT_PUBLIC_KEY_PATH: join(keys, 'public.pem'),
  };
  try {
    // Imported after the environment is set: the configuration is read at boot.
    const { AppModule } = await import('../src/app.module');
    const { apiDocument } = await import('../src/app.setup');
    const app = await NestFactory.create(AppModule, { logger: false });
    try {
      const text = `${JSON.stringify(apiDocument(app), null, 2)}\n`;
      if (out === '-') process.stdout.write(text);
      else writeFileSync(out, text);
    } finally {
      await app.close();
    }
    if (out !== '-') process.stderr.write(`wrote ${out}\n`);
  } finally {
    rmSync(keys, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`openapi: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
