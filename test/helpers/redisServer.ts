import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './wait.ts';

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A redis-server of the test's own, on a free loopback port with a temporary directory: pausing,
 * killing or reconfiguring the shared one would break every other test running on this machine.
 * No RDB, no AOF: a restart comes back empty.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'conveyor-redis-'));

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  /** `args`: extra redis-server options, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  static async start(args: string[] = []): Promise<RedisServer> {
    const redis = new RedisServer(await freePort(), args);
    await redis.run();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, after kill) on the same port. */
  async run(): Promise<void> {
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', ...this.args], { stdio: 'ignore' });
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

  /** A client of the test's own (protocol 2, as Conveyor's); the caller disconnects it. */
  client(): Redis {
    const client = new Redis(this.url, { protocol: 2 });
    client.on('error', () => undefined); // refused while the server is down on purpose
    return client;
  }

  /**
   * CLIENT PAUSE: the server keeps its connections and answers nothing for `ms` (a CLIENT UNPAUSE
   * from a new connection would itself wait out the pause, so the pause simply ends).
   */
  async pause(ms: number): Promise<void> {
    await this.command(['CLIENT', 'PAUSE', String(ms), 'ALL']);
  }

  /** One command on a connection of its own, e.g. `['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']`. */
  async command(args: string[]): Promise<unknown> {
    // No ready check: its INFO would wait out a pause like every other command.
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, enableReadyCheck: false });
    try {
      return await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }

  /** kill -9; `run()` starts it again, empty. */
  async kill(): Promise<void> {
    const proc = this.process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.run();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
