/**
 * A short human label for a session list ("Chrome on macOS"), derived from the User-Agent.
 * Bounded, printable, never the raw header: it is shown back to the user and logged.
 */
const BROWSERS: Array<[RegExp, string]> = [
  [/Edg\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\/|Chromium\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^PostmanRuntime\//, 'Postman'],
  [/node-fetch|undici|axios|^node/i, 'Node.js client'],
  [/^python-requests|^python-httpx|aiohttp/i, 'Python client'],
  [/okhttp/i, 'Android app'],
  [/CFNetwork/, 'iOS app'],
];
const SYSTEMS: Array<[RegExp, string]> = [
  [/Windows NT/, 'Windows'],
  [/iPhone|iPad|iOS/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

export function deviceLabel(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  const ua = userAgent.slice(0, 512);
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return (browser ?? system) as string;
  const printable = ua.replace(/[^\x20-\x7e]/g, '').split(/[\s/]/)[0]?.slice(0, 40);
  return printable ? printable : 'Unknown device';
}
