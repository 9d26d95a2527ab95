/**
 * A TCP proxy in front of Redis or MySQL for network faults on demand: added latency, silently
 * dropped traffic (a black hole), and resets of every open connection. In Node, because the
 * loopback is shared and `tc` would hit everyone's servers.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  port = 0;
  latencyMs = 0;
  /** While true, bytes are read and thrown away in both directions (a partition, not a refusal). */
  blackhole = false;

  constructor(
    readonly name: string,
    private readonly target: () => number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target(), '127.0.0.1');
      this.open.add(client).add(upstream);
      const pipe = (from: Socket, to: Socket) =>
        from.on('data', (chunk: Buffer) => {
          if (this.blackhole) return;
          if (this.latencyMs > 0) setTimeout(() => to.destroyed || to.write(chunk), this.latencyMs);
          else to.write(chunk);
        });
      pipe(client, upstream);
      pipe(upstream, client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      for (const s of [client, upstream]) {
        s.on('error', close);
        s.on('close', close);
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Every connection through the proxy torn down with RST, as a middlebox or a crashed peer does. */
  resetAll(): number {
    const n = this.open.size;
    for (const s of this.open) s.resetAndDestroy();
    this.open.clear();
    return n / 2;
  }

  async stop(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
