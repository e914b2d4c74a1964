import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { runInThisContext } from 'node:vm';

/**
 * Free TCP ports on the loopback interface for servers that tests start themselves.
 *
 * Ports come from a block reserved for the current Jest worker (JEST_WORKER_ID), below the
 * kernel's ephemeral range (32768-60999 on Linux): a port handed out here is then not taken
 * meanwhile by an outgoing connection's local port, nor by another worker, so a server that a test
 * stops can be started again on the same port. Well-known service ports (6379, 5432, ...) are
 * never in the blocks. Each candidate is probed by binding it; if a whole block is busy the
 * kernel picks one (port 0) instead.
 */

const FIRST_PORT = 20_000;
const BLOCK_SIZE = 500;
const BLOCKS = 24; // 20000-31999

/**
 * Ports this process already handed out. Kept on Node's own global object (outside the sandbox
 * that Jest gives each test file) so that every test file run by this process shares it.
 */
function handedOut(): Set<number> {
  const key = Symbol.for('auth-domain.test.free-port.handed-out');
  const holder = runInThisContext('globalThis') as Record<symbol, Set<number> | undefined>;
  holder[key] ??= new Set<number>();
  return holder[key];
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch {
    // not Linux: assume the IANA range
  }
  return [49_152, 65_535];
}

/** Resolves true when `port` can be bound on `host` right now (and releases it at once). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function kernelPickedPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * A port that is free on `host` now and was not handed out before in this process. Call it just
 * before starting the server; the port is not held in between.
 */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  const used = handedOut();
  const worker = Math.max(1, Number.parseInt(process.env.JEST_WORKER_ID ?? '1', 10) || 1);
  const start = FIRST_PORT + ((worker - 1) % BLOCKS) * BLOCK_SIZE;
  const [ephLo, ephHi] = ephemeralRange();
  const offset = Math.floor(Math.random() * BLOCK_SIZE);
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const port = start + ((offset + i) % BLOCK_SIZE);
    if (used.has(port) || (port >= ephLo && port <= ephHi)) continue;
    if (await isPortFree(port, host)) {
      used.add(port);
      return port;
    }
  }
  for (let i = 0; i < 20; i++) {
    const port = await kernelPickedPort(host);
    if (!used.has(port)) {
      used.add(port);
      return port;
    }
  }
  throw new Error(`getFreePort: no free port found on ${host}`);
}
