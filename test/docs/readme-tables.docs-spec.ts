import { AUDIT_EVENTS, AUTH_ERROR_CODES } from '../../src/auth';
import { auditTableProblems, configTableProblems, errorTableProblems, variablesReadByConfig } from './doc-tables';
import { readRepoFile } from './markdown';

/**
 * The README's error, audit-event and configuration tables list exactly what the code has: the
 * closed union of error codes (with their statuses), the closed list of audit events, and every
 * variable the environment schema reads. All three are read from the code when the test runs.
 */
describe('README reference tables', () => {
  const readme = readRepoFile('README.md');

  it('the error table has one row per AUTH_ERROR_CODES code, with its status', () => {
    expect(errorTableProblems(readme, AUTH_ERROR_CODES)).toEqual([]);
  });

  it('the audit-event table has one row per AUDIT_EVENTS event', () => {
    expect(auditTableProblems(readme, AUDIT_EVENTS)).toEqual([]);
  });

  it('the configuration table names every variable the environment schema reads', () => {
    const variables = variablesReadByConfig();
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', 'ACCESS_TOKEN_TTL', 'AUTH_PUBLIC_ORIGIN']));
    expect(configTableProblems(readme, variables)).toEqual([]);
  });

  describe('the checks fail on a stale README', () => {
    it('a code without a row, a row without a code, a wrong status', () => {
      const codes = { ...AUTH_ERROR_CODES, BRAND_NEW_CODE: { status: 400 } };
      expect(errorTableProblems(readme, codes)).toEqual(['error code BRAND_NEW_CODE has no row']);
      const { RATE_LIMITED: _gone, ...withoutOne } = AUTH_ERROR_CODES;
      expect(errorTableProblems(readme, withoutOne)).toEqual(['error code RATE_LIMITED is documented but the code has no such error code']);
      const wrong = readme.replace('| `RATE_LIMITED` | 429 |', '| `RATE_LIMITED` | 400 |');
      expect(errorTableProblems(wrong, AUTH_ERROR_CODES)).toEqual(['error code RATE_LIMITED is documented as 400, the code answers 429']);
    });

    it('a row listing several codes gives one status for all, or one each', () => {
      const row = /^\| `MALFORMED_JSON`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE` \| 400, 413, 415 \|/m;
      expect(readme).toMatch(row);
      const swapped = readme.replace(row, '| `MALFORMED_JSON`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE` | 400, 415, 413 |');
      expect(errorTableProblems(swapped, AUTH_ERROR_CODES)).toEqual([
        'error code PAYLOAD_TOO_LARGE is documented as 415, the code answers 413',
        'error code UNSUPPORTED_MEDIA_TYPE is documented as 413, the code answers 415',
      ]);
      const short = readme.replace(row, '| `MALFORMED_JSON`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE` | 400, 413 |');
      expect(errorTableProblems(short, AUTH_ERROR_CODES)).toEqual([
        'the row of MALFORMED_JSON, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE gives 2 statuses for 3 codes',
      ]);
    });

    it('an event or a variable added to the code, or one removed from it', () => {
      expect(auditTableProblems(readme, [...AUDIT_EVENTS, 'example.added'])).toEqual(['audit event example.added has no row']);
      expect(auditTableProblems(readme, AUDIT_EVENTS.filter((e) => e !== 'csrf.failure'))).toEqual([
        'audit event csrf.failure is documented but the code has no such audit event',
      ]);
      const variables = variablesReadByConfig();
      expect(configTableProblems(readme, [...variables, 'AUTH_NEW_SETTING'])).toEqual(['variable AUTH_NEW_SETTING has no row']);
    });

    it('a duplicated row, and a section that is gone', () => {
      const twice = readme.replace('| `rate_limited` | a 429 |', '| `rate_limited` | a 429 |\n| `rate_limited` | again |');
      expect(auditTableProblems(twice, AUDIT_EVENTS)).toEqual(['audit event rate_limited has two rows']);
      expect(() => errorTableProblems(readme.replace('## Errors', '## Failures'), AUTH_ERROR_CODES)).toThrow('no "## Errors" heading');
    });
  });
});
