/**
 * The Conveyor deployment under test: separate processes per role (2 api, 2 worker, 1 ws,
 * 1 scheduler), started as users start them, pointed at the harness's servers through its proxies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort, until } from './infra.ts';
import { START_NODE_FLAGS } from '../bench/lib/processes.ts';

export type ProcRole = 'api' | 'worker' | 'ws' | 'scheduler';

export interface ConveyorProc {
  name: string;
  role: ProcRole;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

export const JWT_SECRET = 'chaos-harness-secret-0123456789abcdef';
/** The deployment's WORKER_LOCK_DURATION and WORKER_STALLED_INTERVAL (the production defaults). */
export const WORKER_LOCK_MS = 10_000;
export const WORKER_STALLED_MS = 5_000;

export class Deployment {
  readonly procs = new Map<string, ConveyorProc>();
  private readonly logs: WriteStream;
  readonly env: Record<string, string>;

  constructor(
    readonly dir: string,
    opts: { databaseUrl: string; redisUrl: string; consumerUrl: string; extraEnv?: Record<string, string> },
  ) {
    const integrations = join(dir, 'integrations.json');
    writeFileSync(
      integrations,
      JSON.stringify({
        promotions: { delivery: 'http', url: `${opts.consumerUrl}/ok`, timeout_ms: 2000, max_attempts: 50, backoff: { delay_ms: 200, max_delay_ms: 2000 }, remember_for: '1d' },
        // Scenario 9: a consumer that always fails; its deliveries must give up and stay visible.
        doomed: { delivery: 'http', url: `${opts.consumerUrl}/fail`, timeout_ms: 1000, max_attempts: 3, backoff: { delay_ms: 100, max_delay_ms: 300 }, remember_for: '1d' },
        banners: { delivery: 'topic', topic: 'banners.seen', remember_for: '1d' },
      }),
    );
    // Payouts in batches of 10 (a batch is one transaction): with the default 500, scenario 13's
    // 200 employees would be paid in one commit and the kill could never land mid-run.
    const popug = join(dir, 'popug.json');
    writeFileSync(popug, JSON.stringify({ ...(JSON.parse(readFileSync('config/popug.json', 'utf8')) as object), batch_size: 10 }));
    this.logs = createWriteStream(join(dir, 'conveyor.log'));
    this.env = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      DATABASE_URL: `${opts.databaseUrl}/chaos`,
      REDIS_URL: opts.redisUrl,
      QUEUE_PREFIX: 'chaos',
      JWT_SECRET,
      ADMIN_PASSWORD: 'chaos-admin',
      INTEGRATIONS_FILE: integrations,
      POPUG_CONFIG_FILE: popug,
      LOG_LEVEL: 'warn',
      CHAT_MESSAGES_PER_MINUTE: '100000',
      CHAT_DONATIONS_PER_MINUTE: '100000',
      // Recovery paths on a short timer so a scenario does not wait out production intervals.
      OUTBOX_POLL: '200ms',
      OUTBOX_RECONCILE_EVERY: '2s',
      OUTBOX_RECONCILE_GRACE: '5s',
      SCHEDULER_CHECK_EVERY: '2s',
      BONUS_HOLD: '2s',
      BONUS_COOLDOWN: '1s',
      BONUS_RECHECK_CRON: '*/3 * * * * *',
      SHUTDOWN_TIMEOUT: '10s',
      // A killed or frozen worker's jobs run again within about their sum (zombie-worker waits past it).
      WORKER_LOCK_DURATION: `${WORKER_LOCK_MS}ms`,
      WORKER_STALLED_INTERVAL: `${WORKER_STALLED_MS}ms`,
      ...opts.extraEnv,
    };
  }

  async spawn(name: string, role: ProcRole, wait = true): Promise<ConveyorProc> {
    const port = this.procs.get(name)?.port ?? (await freePort());
    const child = spawn(process.execPath, [...START_NODE_FLAGS, '--import', 'tsx', 'src/main.ts', 'start', '--role', role], {
      env: { ...process.env, ...this.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tag = (d: Buffer) => this.logs.write(d.toString().replace(/^(?=.)/gm, `[${name}] `));
    child.stdout!.on('data', tag);
    child.stderr!.on('data', tag);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const proc = { name, role, port, child, exited };
    this.procs.set(name, proc);
    if (wait) await this.ready(proc);
    return proc;
  }

  /** api and ws answer /readyz; worker and scheduler have no HTTP server, so alive is enough. */
  async ready(proc: ConveyorProc, timeoutMs = 180_000): Promise<number> {
    if (proc.role === 'worker' || proc.role === 'scheduler') return 0;
    return until(`${proc.name} ready`, async () => (await fetch(`http://127.0.0.1:${proc.port}/readyz`)).status === 200, timeoutMs, 200);
  }

  async startAll(): Promise<void> {
    // The first one creates and migrates the database; the rest start beside each other.
    await this.spawn('api1', 'api');
    await Promise.all([this.spawn('api2', 'api'), this.spawn('worker1', 'worker'), this.spawn('worker2', 'worker'), this.spawn('ws', 'ws'), this.spawn('scheduler', 'scheduler')]);
  }

  get(name: string): ConveyorProc {
    const proc = this.procs.get(name);
    if (!proc) throw new Error(`no process ${name}`);
    return proc;
  }

  apiUrls(): string[] {
    return [...this.procs.values()].filter((p) => p.role === 'api').map((p) => `http://127.0.0.1:${p.port}`);
  }

  async kill9(name: string): Promise<void> {
    const proc = this.get(name);
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** Every process still alive (a scenario that kills one restarts it before it ends). */
  alive(): string[] {
    return [...this.procs.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.name);
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) p.child.kill('SIGCONT');
    await Promise.all(
      [...this.procs.values()].map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 12_000);
        await p.exited;
        clearTimeout(timer);
      }),
    );
    this.logs.end();
  }
}
