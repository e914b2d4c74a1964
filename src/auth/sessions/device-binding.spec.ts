import { randomBytes } from 'node:crypto';
import { MacSecret } from '../tokens/mac-secret.loader';
import { DeviceBinder, subnetOf, uaFamily } from './device-binding';

const CHROME_126 = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const CHROME_127 = CHROME_126.replace('126.0.0.0', '127.0.6533.72');
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

describe('device binding', () => {
  const macSecret = MacSecret.fromBytes(randomBytes(32));

  it('subnetOf: /24 for IPv4 (and IPv4-mapped), /64 for IPv6, "" for junk', () => {
    expect(subnetOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(subnetOf('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(subnetOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(subnetOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(subnetOf('2001:0db8:0000:0001::9')).toBe('2001:db8:0:1::/64');
    expect(subnetOf('not an ip')).toBe('');
    expect(subnetOf(undefined)).toBe('');
  });

  it('uaFamily ignores versions', () => {
    expect(uaFamily(CHROME_126)).toBe(uaFamily(CHROME_127));
    expect(uaFamily(CHROME_126)).not.toBe(uaFamily(FIREFOX));
  });

  it('off: always ""', () => {
    expect(new DeviceBinder(macSecret, 'off').hash({ userAgent: CHROME_126, ip: '1.2.3.4' })).toBe('');
  });

  it('ua: same family binds alike whatever the address; another browser does not', () => {
    const b = new DeviceBinder(macSecret, 'ua');
    const h = b.hash({ userAgent: CHROME_126, ip: '1.2.3.4' });
    expect(h).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(b.hash({ userAgent: CHROME_127, ip: '9.9.9.9' })).toBe(h);
    expect(b.hash({ userAgent: FIREFOX, ip: '1.2.3.4' })).not.toBe(h);
    expect(b.hash({ ip: '1.2.3.4' })).not.toBe(h);
  });

  it('ua+subnet: same /24 matches, another subnet does not', () => {
    const b = new DeviceBinder(macSecret, 'ua+subnet');
    const h = b.hash({ userAgent: CHROME_126, ip: '198.51.100.1' });
    expect(b.hash({ userAgent: CHROME_126, ip: '198.51.100.254' })).toBe(h);
    expect(b.hash({ userAgent: CHROME_126, ip: '198.51.101.1' })).not.toBe(h);
  });

  it('is keyed: another server key gives another hash', () => {
    const a = new DeviceBinder(macSecret, 'ua').hash({ userAgent: CHROME_126 });
    expect(new DeviceBinder(MacSecret.fromBytes(randomBytes(32)), 'ua').hash({ userAgent: CHROME_126 })).not.toBe(a);
  });
});
