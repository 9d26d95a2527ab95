/**
 * The harness's own Redis and MariaDB: temp data dirs, loopback ports of their own, so they can
 * be killed, frozen and restarted without touching any server someone else uses.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A server process the harness owns: started, killed, frozen, restarted on the same port. */
export abstract class OwnServer {
  child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'conveyor-chaos-'));
  port = 0;
  log = '';

  protected abstract command(): [string, string[]];
  protected abstract ping(): Promise<boolean>;

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const [cmd, args] = this.command();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000)));
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000)));
    this.child = child;
    await until(`${cmd} on port ${this.port}`, () => this.ping(), 60_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.log}`);
    });
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class OwnRedis extends OwnServer {
  conf: string[] = [];
  protected command(): [string, string[]] {
    // No RDB, no AOF: a restart comes back empty, as a cache-configured Redis does.
    return ['redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'no', ...this.conf]];
  }
  protected async ping(): Promise<boolean> {
    try {
      return execFileSync('redis-cli', ['-p', String(this.port), 'PING'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() === 'PONG';
    } catch {
      return false;
    }
  }
  cli(...args: string[]): string {
    return execFileSync('redis-cli', ['-p', String(this.port), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 }).toString().trim();
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
}

export class OwnMariaDb extends OwnServer {
  private installed = false;
  protected command(): [string, string[]] {
    if (!this.installed) {
      execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${join(this.dir, 'data')}`, '--auth-root-authentication-method=normal', '--user=root', '--skip-test-db'], { stdio: 'ignore' });
      this.installed = true;
    }
    return [
      'mariadbd',
      [
        '--no-defaults', `--datadir=${join(this.dir, 'data')}`, `--port=${this.port}`, '--bind-address=127.0.0.1',
        `--socket=${join(this.dir, 'mysqld.sock')}`, `--pid-file=${join(this.dir, 'mysqld.pid')}`, '--user=root',
        // Root from 127.0.0.1 without a password, like the shared test server.
        '--skip-grant-tables', '--skip-name-resolve', '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=32M',
        '--innodb-flush-log-at-trx-commit=1', '--max-connections=400', '--innodb-lock-wait-timeout=10',
      ],
    ];
  }
  protected async ping(): Promise<boolean> {
    try {
      execFileSync('mariadb-admin', ['-h', '127.0.0.1', '-P', String(this.port), '-u', 'root', 'ping'], { stdio: 'ignore', timeout: 3000 });
      return true;
    } catch {
      return false;
    }
  }
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }
}
