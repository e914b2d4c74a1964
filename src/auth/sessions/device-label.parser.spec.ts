import { deviceLabel } from './device-label.parser';

describe('deviceLabel', () => {
  it.each([
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on macOS'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari on iOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0', 'Opera on Windows'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on ChromeOS'],
    ['curl/8.5.0', 'curl'],
    ['PostmanRuntime/7.39.0', 'Postman'],
    ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'Node.js client'],
    ['python-requests/2.32.3', 'Python client'],
    ['okhttp/4.12.0', 'Android app'],
    ['MyApp/1.0 CFNetwork/1494.0.7 Darwin/23.4.0', 'iOS app'],
  ])('%s -> %s', (ua, label) => {
    expect(deviceLabel(ua)).toBe(label);
  });

  it('falls back to "Unknown device" without a User-Agent', () => {
    expect(deviceLabel(undefined)).toBe('Unknown device');
    expect(deviceLabel('')).toBe('Unknown device');
  });

  it('labels an unknown agent by its first printable word, at most 40 characters', () => {
    expect(deviceLabel('AcmeSync/3.2 (build 7)')).toBe('AcmeSync');
    expect(deviceLabel('X'.repeat(300))).toBe('X'.repeat(40));
  });

  it('never echoes control characters, line breaks or a huge header', () => {
    const nasty = '\u0000\u001b[31m<script>alert(1)</script>\r\nSet-Cookie: a=b';
    const label = deviceLabel(nasty);
    expect(label).toMatch(/^[\x20-\x7e]{1,40}$/);
    expect(label).not.toMatch(/[\r\n]/);
    expect(deviceLabel('\u0000\u0001\u0002')).toBe('Unknown device');
    expect(deviceLabel('a'.repeat(100_000) + ' Firefox/1').length).toBeLessThanOrEqual(40);
  });
});
