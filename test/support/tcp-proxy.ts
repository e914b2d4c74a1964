import { connect, createServer, type Server, type Socket } from 'node:net';
import { getFreePort } from './free-port';

/**
 * A TCP proxy on loopback in front of one server (Redis, PostgreSQL), for fault tests:
 *
 *   const proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
 *   `redis://127.0.0.1:${proxy.port}`     // what the application under test is given
 *   proxy.stall();                          // a silent link: connections stay open, nothing passes
 *   proxy.resume();                         // what was held back flows on, in order
 *   await proxy.cut();                      // connections dropped, new ones refused
 *   await proxy.restore();                  // accepting again, on the same port
 *   await proxy.close();                    // in afterAll
 *
 * Stalled, it forwards nothing in either direction and closes nothing: both sides see an open,
 * quiet socket (a partition, a dropped route, a NAT that lost its state). Connections made while
 * stalled are accepted and held too.
 */
export interface TcpProxy {
  readonly port: number;
  /** Whether the link is stalled. */
  readonly stalled: boolean;
  /** Live client connections. */
  readonly connections: number;
  stall(): void;
  resume(): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const proxy = new Proxy(target, await getFreePort());
  await proxy.restore();
  return proxy;
}

class Proxy implements TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  stalled = false;

  constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  get connections(): number {
    return this.pairs.size;
  }

  stall(): void {
    this.stalled = true;
    for (const [client, upstream] of this.pairs) {
      client.pause();
      upstream.pause();
    }
  }

  resume(): void {
    this.stalled = false;
    for (const [client, upstream] of this.pairs) {
      client.resume();
      upstream.resume();
    }
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    this.resume();
    await this.cut();
  }

  private accept(client: Socket): void {
    const upstream = connect(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) s.on('error', drop).on('close', drop);
    this.forward(client, upstream);
    this.forward(upstream, client);
    if (this.stalled) {
      client.pause();
      upstream.pause();
    }
  }

  /** Not pipe(): a pipe resumes its source on 'drain', which would end a stall. */
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!this.stalled) from.resume();
    });
  }
}
