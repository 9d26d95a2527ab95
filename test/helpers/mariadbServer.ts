import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redisServer.ts';
import { waitFor } from './wait.ts';

/**
 * A mariadbd of the test's own (temp data dir, free loopback port, root without a password):
 * freezing or killing the shared server would break every other test on this machine.
 */
export class MariaDbServer {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'conveyor-mariadb-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<MariaDbServer> {
    const server = new MariaDbServer(await freePort());
    execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${join(server.dir, 'data')}`, '--auth-root-authentication-method=normal', '--user=root', '--skip-test-db'], { stdio: 'ignore' });
    server.process = spawn(
      'mariadbd',
      [
        '--no-defaults', `--datadir=${join(server.dir, 'data')}`, `--port=${server.port}`, '--bind-address=127.0.0.1',
        `--socket=${join(server.dir, 'mysqld.sock')}`, `--pid-file=${join(server.dir, 'mysqld.pid')}`, '--user=root',
        '--skip-grant-tables', '--skip-name-resolve', '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(() => server.ping(), { what: `mariadbd on ${server.port}`, timeoutMs: 30_000, intervalMs: 100 });
    return server;
  }

  /** The server URL without a database: `${url}/name`. */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  private ping(): boolean {
    try {
      execFileSync('mariadb-admin', ['-h', '127.0.0.1', '-P', String(this.port), '-u', 'root', 'ping'], { stdio: 'ignore', timeout: 3000 });
      return true;
    } catch {
      return false;
    }
  }

  /** SIGSTOP: the server keeps its connections and answers nothing (a frozen host). */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const proc = this.process;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
