import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../../helpers/wait.ts';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A redis-server of the test's own, on a free loopback port with a temporary directory: pausing or
 * stopping the shared one would break every other test running on this machine.
 */
export class OwnRedis {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'conveyor-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.run();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async run(): Promise<void> {
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(() => this.ping(), { what: `redis-server on ${this.port}`, timeoutMs: 10_000, intervalMs: 50 });
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  /**
   * CLIENT PAUSE: the server keeps its connections and answers nothing for `ms` (a CLIENT UNPAUSE
   * from a new connection would itself wait out the pause, so the pause simply ends).
   */
  async pause(ms: number): Promise<void> {
    await this.command(['CLIENT', 'PAUSE', String(ms), 'ALL']);
  }

  async stop(): Promise<void> {
    const proc = this.process;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async command(args: string[]): Promise<void> {
    // No ready check: its INFO would wait out a pause like every other command.
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, enableReadyCheck: false });
    try {
      await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }
}

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
