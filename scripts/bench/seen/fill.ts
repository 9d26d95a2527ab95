/**
 * Queues seen facts the way production does: POST /seen against Conveyor's api role with no
 * worker running, so the delivery queue holds the batch jobs the API really makes (as many facts
 * per job as the load puts in one event-loop turn). Used by bench:seen and profile-seen.
 */
import type { Redis } from 'ioredis';
import { runHttpLoad } from '../lib/http-load.ts';

/** Facts remembered (one seen key each) and batch jobs waiting under a prefix. */
export async function queuedFacts(redis: Redis, prefix: string): Promise<{ facts: number; jobs: number }> {
  let facts = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:seen:*`, 'COUNT', 1000);
    cursor = next;
    facts += keys.length;
  } while (cursor !== '0');
  const jobs = await redis.llen(`${prefix}:notify.deliver-seen-batch:wait`);
  return { facts, jobs };
}

export interface FillOptions {
  redis: Redis;
  prefix: string;
  /** The api process's POST /seen URL. */
  url: string;
  facts: number;
  connections: number;
  body: () => string;
  headersFor: () => Record<string, string>;
  label: string;
}

/** Drives the API in 1-second runs until at least `facts` facts are queued; answers what is. */
export async function fillThroughApi(o: FillOptions): Promise<{ facts: number; jobs: number; rps: number }> {
  let queued = await queuedFacts(o.redis, o.prefix);
  let rps = 0;
  while (queued.facts < o.facts) {
    const r = await runHttpLoad({ url: o.url, method: 'POST', headers: { 'content-type': 'application/json' }, headersFor: o.headersFor, body: o.body, connections: o.connections, durationMs: 1_000, label: `${o.label}: ${queued.facts} of ${o.facts}` });
    if (r.ok === 0) throw new Error(`filling through the API failed: ${JSON.stringify(r.statusCounts)}, ${r.errors} errors`);
    rps = r.rps;
    queued = await queuedFacts(o.redis, o.prefix);
  }
  return { ...queued, rps };
}
