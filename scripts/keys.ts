/**
 * Signing keys and the MAC secret, from the environment the server reads (JWT_*, AUTH_MAC_SECRET_PATH,
 * ACCESS_TOKEN_TTL; defaults as the server's). Procedure: docs/operations.md, "Key rotation".
 *
 *   npm run keys -- generate [--from-signing-key]   the signing pair and the MAC secret, where missing
 *   npm run keys -- rotate                           step 1: stage a new key (published, not signing)
 *   npm run keys -- rotate --promote [--force]       step 2: the staged key signs, the current one retires
 *   npm run keys -- list                             kids, roles and files
 *
 * Run it where the key files are kept, then ship the files to every instance and restart them.
 */
import { ConfigError, keyFiles } from '../src/config/app-config.schema';
import { MacSecretError } from '../src/auth/tokens/mac-secret.loader';
import { SigningKeyError } from '../src/auth/tokens/signing-keys.loader';
import {
  generateKeys,
  KeyFiles,
  KeyRotationError,
  listKeys,
  nextPrivateKeyPath,
  promoteNextKey,
  stageNextKey,
} from '../src/auth/tokens/signing-keys.rotation';
import { JWKS_MAX_AGE_SECONDS } from '../src/auth/tokens/signing-keys.loader';

const USAGE = 'usage: npm run keys -- generate [--from-signing-key] | rotate [--promote] [--force] | list';

function run(argv: readonly string[], files: KeyFiles): string[] {
  const [command, ...flags] = argv;
  const allowed: Record<string, readonly string[]> = { generate: ['--from-signing-key'], rotate: ['--promote', '--force'], list: [] };
  if (command === undefined || !(command in allowed) || flags.some((f) => !allowed[command].includes(f))) throw new KeyRotationError(USAGE);
  switch (command) {
    case 'generate':
      return generateKeys(files, { fromSigningKey: flags.includes('--from-signing-key') });
    case 'rotate': {
      if (!flags.includes('--promote')) {
        if (flags.includes('--force')) throw new KeyRotationError('--force applies to `rotate --promote` only');
        const { kid, publicKeyPath } = stageNextKey(files);
        return [
          `staged kid ${kid}: ${publicKeyPath} (private half ${nextPrivateKeyPath(files)})`,
          'next: ship the key files to every instance and restart them; the JWKS serves the staged key, nothing signs with it yet.',
          `then, once every instance has served it for ${JWKS_MAX_AGE_SECONDS} s: npm run keys -- rotate --promote`,
        ];
      }
      const { kid, retiredKid, retiredPath } = promoteNextKey(files, Date.now(), { force: flags.includes('--force') });
      return [
        `kid ${kid} signs now; kid ${retiredKid} retired to ${retiredPath}`,
        'next: ship the key files to every instance and restart them.',
        `${retiredPath} verifies the retired key's tokens: keep it at least ACCESS_TOKEN_TTL + 30 s (${files.accessTokenTtl + 30} s) after the last instance restarted (the next promotion replaces it).`,
      ];
    }
    default:
      return listKeys(files).map((k) => {
        const what = k.role === 'mac-secret' ? (k.since ? 'present' : 'MISSING') : (k.kid ?? '(no key)');
        const when = k.verifiesUntil
          ? `retired ${k.since?.toISOString()}; its tokens are all expired after ${k.verifiesUntil.toISOString()}`
          : k.since && k.role === 'next'
            ? `staged ${k.since.toISOString()}`
            : '';
        return [k.role.padEnd(10), (k.alg ?? '').padEnd(6), what.padEnd(44), k.path, when].join(' ').trimEnd();
      });
  }
}

function main(): void {
  try {
    for (const line of run(process.argv.slice(2), keyFiles(process.env))) process.stdout.write(`${line}\n`);
  } catch (e) {
    // One line, no stack trace, for what the operator can fix.
    if (e instanceof KeyRotationError || e instanceof SigningKeyError || e instanceof MacSecretError || e instanceof ConfigError) {
      process.stderr.write(`keys: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

main();
