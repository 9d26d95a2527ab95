/** Faults of Redis: SHUTDOWN NOSAVE and restart empty, CLIENT PAUSE, out of memory, evicting policy. */
import { sleep, until } from '../infra.ts';
import type { Scenario } from '../context.ts';

export const redisRestart: Scenario = {
  name: 'redis-restart',
  n: 4,
  quick: true,
  async run(ctx) {
    const load = ctx.traffic.run(10_000, 15);
    await sleep(3000);
    try {
      ctx.redis.cli('SHUTDOWN', 'NOSAVE');
    } catch {
      /* the connection drops as it exits */
    }
    await ctx.redis.kill9();
    await sleep(2000);
    await ctx.redis.start();
    ctx.traffic.redisWipes.push(Date.now());
    await load;
    // The scheduler re-registers its repeatable jobs on its own timer.
    const back = await until('the scheduler to re-register', async () => (await ctx.redisClient().keys(`${ctx.prefix}:*:repeat`)).length > 0, 30_000).then(
      (ms) => ({ ok: true, detail: `${ms} ms after traffic ended` }),
      (err: Error) => ({ ok: false, detail: err.message }),
    );
    return { fault: 'SHUTDOWN NOSAVE, restart empty 2 s later, under traffic', checks: [{ name: 'SCHED', ...back }] };
  },
};

/** Answers to requests made while Redis is paused: fast 503s (or successes), never a hang. */
async function probe(ctx: Parameters<Scenario['run']>[0], forMs: number): Promise<{ slowest: number; statuses: Record<string, number> }> {
  const started = Date.now();
  let slowest = 0;
  const statuses: Record<string, number> = {};
  while (Date.now() - started < forMs) {
    const t = Date.now();
    const res = await ctx.traffic.call('POST', '/4.0/mark-notify/v1/seen', undefined, { tag: 'banners', id: `probe-${t}` }, {}, 0, 30_000);
    slowest = Math.max(slowest, Date.now() - t);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    await sleep(500);
  }
  return { slowest, statuses };
}

// Longer than REDIS_COMMAND_TIMEOUT several times over: requests must be refused, not wait it out.
const PAUSE_MS = 8000;

export const redisPause: Scenario = {
  name: 'redis-pause',
  n: 5,
  quick: true,
  async run(ctx) {
    const load = ctx.traffic.run(10_000, 15);
    await sleep(2000);
    ctx.redis.cli('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    const seen = await probe(ctx, PAUSE_MS - 1000);
    await load;
    // The deployment answered before the pause ended, and only with 200 or 503.
    const bounded = seen.slowest < 8000 && Object.keys(seen.statuses).every((s) => s === '200' || s === '503');
    return { fault: `CLIENT PAUSE ${PAUSE_MS / 1000} s ALL under traffic`, checks: [{ name: 'FAST503', ok: bounded, detail: `slowest seen answer ${seen.slowest} ms, statuses ${JSON.stringify(seen.statuses)}` }] };
  },
};

export const redisFull: Scenario = {
  name: 'redis-full',
  n: 6,
  quick: false,
  async run(ctx) {
    const used = Number(/used_memory:(\d+)/.exec(ctx.redis.cli('INFO', 'memory'))![1]);
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory', String(used + 64 * 1024));
    // Fill the rest so the next adds fail with OOM.
    const filler = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 64; i++) {
      try {
        ctx.redis.cli('SET', `chaos-filler:${i}`, filler);
      } catch {
        break;
      }
    }
    const load = ctx.traffic.run(8000, 15, 40_000);
    await sleep(8000);
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory', '0');
    for (let i = 0; i < 64; i++) ctx.redis.cli('DEL', `chaos-filler:${i}`);
    await load;

    // An evicting policy: /readyz must say so (BullMQ loses jobs on it), and a new process must refuse.
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory', '512mb');
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await sleep(1500);
    const ready = await fetch(`http://127.0.0.1:${ctx.deployment.get('api1').port}/readyz`).then(async (r) => ({ status: r.status, text: await r.text() }), () => ({ status: 0, text: '' }));
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    ctx.redis.cli('CONFIG', 'SET', 'maxmemory', '0');
    const said = ready.status !== 200 && /evict|maxmemory|policy/i.test(ready.text);
    return {
      fault: 'maxmemory reached (noeviction) for 8 s under traffic; then allkeys-lru',
      checks: [{ name: 'EVICT', ok: said, detail: `/readyz under allkeys-lru: ${ready.status} ${ready.text.slice(0, 120)}` }],
    };
  },
};
