/** Faults of Conveyor's own processes: kill -9 of a worker, an api, the ws server; a zombie worker. */
import { WORKER_LOCK_MS, WORKER_STALLED_MS } from '../deployment.ts';
import { sleep } from '../infra.ts';
import type { Scenario } from '../context.ts';

export const workerKill: Scenario = {
  name: 'worker-kill',
  n: 1,
  quick: true,
  async run(ctx) {
    const load = ctx.traffic.run(10_000, 15);
    await sleep(3000);
    await ctx.deployment.kill9('worker1');
    await sleep(3000);
    await ctx.deployment.kill9('worker2');
    await ctx.deployment.spawn('worker1', 'worker');
    await sleep(2000);
    await ctx.deployment.spawn('worker2', 'worker');
    await load;
    return { fault: 'kill -9 worker1 mid-transfers, then worker2; both restarted' };
  },
};

export const apiKill: Scenario = {
  name: 'api-kill',
  n: 3,
  quick: true,
  async run(ctx) {
    const before = ctx.traffic.attempts.length;
    const load = ctx.traffic.run(10_000, 20);
    for (const delay of [2000, 3000]) {
      await sleep(delay);
      await ctx.deployment.kill9('api1');
      await sleep(2000);
      await ctx.deployment.spawn('api1', 'api');
    }
    await load;
    const retried = ctx.traffic.attempts.slice(before).filter((a) => a.tries > 1 && a.status >= 200 && a.status < 300).length;
    return { fault: `kill -9 api1 twice under load; clients retried the same key on api2 (${retried} succeeded on a retry)` };
  },
};

export const wsKill: Scenario = {
  name: 'ws-kill',
  n: 11,
  quick: true,
  async run(ctx) {
    const load = ctx.traffic.run(8000, 15);
    await sleep(3000);
    await ctx.deployment.kill9('ws');
    await sleep(1500);
    await ctx.deployment.spawn('ws', 'ws');
    await load;
    return { fault: 'kill -9 of the ws process; restarted on its port, viewers reconnect with since' };
  },
};

export const zombieWorker: Scenario = {
  name: 'zombie-worker',
  n: 2,
  quick: false,
  async run(ctx) {
    // Both workers frozen so jobs are surely mid-flight in one; a third takes over once locks lapse.
    const load = ctx.traffic.run(8000, 15);
    await sleep(4000);
    const worker1 = ctx.deployment.get('worker1').child;
    worker1.kill('SIGSTOP');
    await load;
    // Past the lock and two stalled checks: worker2 moves the stalled jobs back and runs them.
    const frozenMs = WORKER_LOCK_MS + 2 * WORKER_STALLED_MS + 3000;
    await sleep(frozenMs);
    worker1.kill('SIGCONT');
    await sleep(5000);
    return { fault: `SIGSTOP worker1 mid-jobs for ${frozenMs / 1000} s (past the ${WORKER_LOCK_MS / 1000} s lock + stall checks), then SIGCONT` };
  },
};
