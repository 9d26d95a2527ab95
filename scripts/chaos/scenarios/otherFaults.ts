/** Network faults through the proxies, a deadlock storm, a consumer whose retries run out. */
import { randomUUID } from 'node:crypto';
import { sleep } from '../infra.ts';
import type { Scenario } from '../context.ts';

export const networkFaults: Scenario = {
  name: 'network',
  n: 10,
  quick: true,
  async run(ctx) {
    const load = ctx.traffic.run(13_000, 15);
    await sleep(2000);
    ctx.redisProxy.latencyMs = 150;
    ctx.mysqlProxy.latencyMs = 150;
    await sleep(3000);
    ctx.redisProxy.latencyMs = 0;
    ctx.mysqlProxy.latencyMs = 0;
    const resets = ctx.redisProxy.resetAll() + ctx.mysqlProxy.resetAll();
    await sleep(2000);
    ctx.redisProxy.blackhole = true;
    await sleep(4000);
    ctx.redisProxy.blackhole = false;
    const late = ctx.redisProxy.resetAll() + ctx.mysqlProxy.resetAll();
    await load;
    return { fault: `150 ms latency 3 s; RST of ${resets} connections; Redis black hole 4 s; RST of ${late}` };
  },
};

export const deadlockStorm: Scenario = {
  name: 'deadlock-storm',
  n: 12,
  quick: true,
  async run(ctx) {
    // Opposing transfers cannot be asked for through the API (a model may not donate), so the
    // storm is every viewer at once into two hot rooms while their wallets are topped up: the
    // same accounts locked by concurrent transactions from both sides of each transfer.
    const [a, b] = ctx.traffic.rooms;
    const sends = [];
    for (let i = 0; i < 120; i++) {
      const who = ctx.traffic.clients[i % ctx.traffic.clients.length]!;
      sends.push(ctx.traffic.send('donation', '/chat/donat/add', who, { room: (i % 2 === 0 ? a! : b!).uuid, sum: '0.50' }, `storm-${randomUUID()}`, 30_000));
      if (i % 10 === 0) sends.push(ctx.traffic.call('POST', '/accounts/top-up', ctx.traffic.admin, { user: who.uuid, sum: '1.00' }, { 'idempotency-key': randomUUID() }).then(() => undefined));
      if (i % 20 === 19) await sleep(100);
    }
    const answers = (await Promise.all(sends)).filter((x) => x !== undefined);
    const byStatus: Record<string, number> = {};
    for (const r of answers) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    return { fault: `120 donations into two hot rooms at once, with top-ups of the same wallets: ${JSON.stringify(byStatus)}` };
  },
};

export const retriesExhausted: Scenario = {
  name: 'retries-exhausted',
  n: 9,
  quick: true,
  async run(ctx) {
    const before = ctx.traffic.attempts.length;
    const doomed = [];
    for (let i = 0; i < 10; i++) doomed.push(ctx.traffic.send('seen', '/4.0/mark-notify/v1/seen', undefined, { tag: 'doomed', id: `doomed-${randomUUID()}` }, `doomed-${i}`, 10_000));
    await Promise.all([...doomed, ctx.traffic.run(5000, 10)]);
    const ids = ctx.traffic.attempts.slice(before).filter((a) => a.tag === 'doomed' && a.status === 200).map((a) => String(a.body?.event_id));
    // Three attempts each, then the job stays in the failed set.
    await sleep(3000);
    const tried = ids.filter((id) => (ctx.consumer.failed.get(id) ?? 0) === 3).length;
    const failedKeys = await ctx.redisClient().keys(`${ctx.prefix}:*:failed`);
    let failed = 0;
    const byQueue: string[] = [];
    for (const key of failedKeys) {
      const ids = await ctx.redisClient().zrange(key, '0', '-1');
      failed += ids.length;
      const queue = key.slice(ctx.prefix.length + 1, -':failed'.length);
      const reason = ids.length ? await ctx.redisClient().hget(`${ctx.prefix}:${queue}:${ids[0]}`, 'failedReason') : '';
      byQueue.push(`${queue} ${ids.length} (${String(reason).slice(0, 60)})`);
    }
    return {
      fault: 'a consumer that always answers 500 (max_attempts 3) beside normal traffic',
      checks: [{ name: 'DEAD', ok: tried === ids.length && failed >= ids.length, detail: `${tried}/${ids.length} tried exactly 3 times; failed sets: ${byQueue.join('; ')}` }],
    };
  },
};
