/**
 * The child side of processes.ts: a server under test announces itself with `READY <json>`,
 * answers the parent's commands (JSON lines on stdin) with `REPLY <json>`, and stops cleanly on
 * SIGTERM, SIGINT, when the parent goes away (stdin closes), or after a maximum lifetime, so a
 * forgotten server never outlives its benchmark.
 */
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

export type Command = (data: unknown) => unknown;

export interface ChildOptions {
  /** Extra commands the parent may send; `memory`, `liveMemory`, `cpu`, `loop` and `ping` are built in. */
  commands?: Record<string, Command>;
  /** Releases the server's resources; the process exits when it settles. */
  stop: () => Promise<void>;
  /** Hard limit on the process's life. Default 1 hour. */
  maxSeconds?: number;
}

export interface Child {
  ready(info: Record<string, unknown>): void;
  report(kind: string, data: unknown): void;
  commands: Record<string, Command>;
}

interface Request {
  id: number;
  cmd: string;
  data?: unknown;
}

export function serveChild(opts: ChildOptions): Child {
  const commands: Record<string, Command> = {
    ping: () => 'pong',
    cpu: () => process.cpuUsage(),
    // The main thread's busy and idle time so far (ms): where a saturated server's loop sits idle,
    // it waits on I/O rather than works.
    loop: () => {
      const { idle, active } = performance.eventLoopUtilization();
      return { idle, active };
    },
    memory: () => {
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    // After a full GC when the child runs with --expose-gc, so garbage does not pass for live memory.
    liveMemory: () => {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      // Where heapTotal sits: new space keeps the size it grew to, old space keeps pages with any live object.
      const space = (name: string) => getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_size ?? 0;
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, newSpace: space('new_space'), oldSpace: space('old_space'), external: m.external, arrayBuffers: m.arrayBuffers };
    },
    ...opts.commands,
  };

  let stopping = false;
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`stopping (${why})\n`);
    // A stop() that hangs must not keep the process alive forever.
    setTimeout(() => process.exit(1), 10_000).unref();
    opts.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  setTimeout(() => shutdown('max lifetime reached'), (opts.maxSeconds ?? 3_600) * 1000).unref();

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => void answer(line));
  // The parent's end of the pipe closes when it exits or crashes.
  rl.on('close', () => shutdown('parent gone'));

  async function answer(line: string): Promise<void> {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      return;
    }
    const fn = commands[req.cmd];
    try {
      if (!fn) throw new Error(`unknown command ${req.cmd}`);
      const result = await fn(req.data);
      process.stdout.write(`REPLY ${JSON.stringify({ id: req.id, ok: true, result: result ?? null })}\n`);
    } catch (err) {
      process.stdout.write(`REPLY ${JSON.stringify({ id: req.id, ok: false, error: String(err) })}\n`);
    }
  }

  return {
    commands,
    ready: (info) => process.stdout.write(`READY ${JSON.stringify(info)}\n`),
    report: (kind, data) => process.stdout.write(`REPORT ${kind} ${JSON.stringify(data)}\n`),
  };
}
