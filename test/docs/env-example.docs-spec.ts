import { variablesReadByConfig } from './doc-tables';
import { envExampleProblems } from './env-example';
import { readRepoFile } from './markdown';

/** .env.example lists every variable the environment schema reads, with its default and a comment. */
describe('.env.example', () => {
  const example = readRepoFile('.env.example');
  const variables = variablesReadByConfig();

  it('has every variable of the schema, once, with its default and a one-line comment', () => {
    expect(envExampleProblems(example, variables)).toEqual([]);
  });

  describe('the check fails on a stale example', () => {
    it('a variable the schema reads and the example lacks, or one it no longer reads', () => {
      expect(envExampleProblems(example, [...variables, 'AUTH_NEW_SETTING'])).toEqual(['AUTH_NEW_SETTING is missing']);
      const extra = `${example}\nAUTH_OLD_SETTING=1   # gone\n`;
      expect(envExampleProblems(extra, variables)).toEqual([expect.stringMatching(/^AUTH_OLD_SETTING \(line \d+\) is not read by the environment schema$/)]);
    });

    it('a value that is not the default, a refused one, a missing comment, an unexplained empty value', () => {
      const changed = (from: RegExp, to: string) => envExampleProblems(example.replace(from, to), variables);
      expect(changed(/^ACCESS_TOKEN_TTL=900/m, 'ACCESS_TOKEN_TTL=600')).toEqual([expect.stringMatching(/^ACCESS_TOKEN_TTL=600 \(line \d+\) is not the default$/)]);
      expect(changed(/^JWT_ALGORITHM=ES256/m, 'JWT_ALGORITHM=HS256')).toEqual([expect.stringMatching(/^JWT_ALGORITHM=HS256 \(line \d+\) is refused: /)]);
      expect(changed(/^PORT=3000 .*$/m, 'PORT=3000')).toEqual([expect.stringMatching(/^PORT \(line \d+\) has no comment$/)]);
      expect(changed(/^REDIS_URL= .*$/m, 'REDIS_URL=   # Redis for the stores')).toEqual([
        expect.stringMatching(/^REDIS_URL \(line \d+\) is empty without saying what empty means$/),
      ]);
    });
  });
});
