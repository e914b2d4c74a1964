import { RequestAuthenticator } from './request-authenticator.service';

describe('RequestAuthenticator.bearerFrom', () => {
  const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';

  it('no header, or an empty one, is no credential', () => {
    expect(RequestAuthenticator.bearerFrom(undefined)).toBeNull();
    expect(RequestAuthenticator.bearerFrom('')).toBeNull();
  });

  it.each(['Bearer', 'bearer', 'BEARER', 'BeArEr'])('takes the token after the scheme %s, in any case', (scheme) => {
    expect(RequestAuthenticator.bearerFrom(`${scheme} ${token}`)).toBe(token);
  });

  it('takes up to 4096 characters after the scheme, not 4097', () => {
    expect(RequestAuthenticator.bearerFrom(`Bearer ${'a'.repeat(4096)}`)).toBe('a'.repeat(4096));
    expect(RequestAuthenticator.bearerFrom(`Bearer ${'a'.repeat(4097)}`)).toBe('malformed');
  });

  it.each([
    ['another scheme', `Basic ${token}`],
    ['a scheme that only starts like it', `Bearers ${token}`],
    ['a look-alike scheme', `Bearez ${token}`],
    ['no token', 'Bearer '],
    ['the scheme alone', 'Bearer'],
    ['a tab instead of the space', `Bearer\t${token}`],
    ['a no-break space', `Bearer\u00a0${token}`],
    ['a token with no scheme', token],
  ])('%s is malformed', (_what, header) => {
    expect(RequestAuthenticator.bearerFrom(header)).toBe('malformed');
  });

  it('hands the rest after the one space to the verifier as it is (its shape is checked there)', () => {
    expect(RequestAuthenticator.bearerFrom(`Bearer  ${token}`)).toBe(` ${token}`);
    expect(RequestAuthenticator.bearerFrom(`Bearer ${token} `)).toBe(`${token} `);
  });
});
