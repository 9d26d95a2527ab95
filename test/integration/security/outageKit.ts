import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server. `blackhole()` keeps every connection open and accepts new
 * ones but forwards nothing either way (a partition, a frozen host): no error ever comes back.
 */
export class BlackholeProxy {
  private forwarding = true;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  port = 0;

  private constructor(targetHost: string, targetPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk) => this.forwarding && upstream.write(chunk));
      upstream.on('data', (chunk) => this.forwarding && client.write(chunk));
    });
  }

  static async start(targetHost: string, targetPort: number): Promise<BlackholeProxy> {
    const proxy = new BlackholeProxy(targetHost, targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  blackhole(): void {
    this.forwarding = false;
  }

  resume(): void {
    this.forwarding = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Runs a request and how long it took to answer. */
export async function timed<T>(work: () => Promise<T>): Promise<{ answer: T; ms: number }> {
  const started = performance.now();
  const answer = await work();
  return { answer, ms: performance.now() - started };
}
