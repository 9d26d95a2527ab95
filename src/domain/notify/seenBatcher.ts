import { bySlot, pipelinePerNode, type RedisClient } from '../../platform/redis.ts';
import type { SeenFact } from './seenFact.ts';
import { currentTrace, runWithTrace } from '../../platform/trace.ts';

/** Where a fact is remembered: its own key, holding the first fact's event id for the remember window. */
export function seenStoreKey(prefix: string, key: string): string {
  return `${prefix}:seen:${key}`;
}

/** The event id remembered under this seen key, or null. */
export async function findSeen(redis: RedisClient, prefix: string, key: string): Promise<string | null> {
  return redis.get(seenStoreKey(prefix, key));
}

// Deletes each key that still holds the event id this batch wrote; another writer's id stays.
const FORGET = `local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then n = n + redis.call('DEL', key) end
end
return n`;

const FORGET_TRIES = 5;

export interface SeenBatcherDeps {
  redis: RedisClient;
  prefix: string;
  /** Most facts in one batch (NOTIFY_BATCH_MAX): a turn that accepts more flushes early. */
  max: number;
  /**
   * Queues the facts as one delivery job; resolves once the job is in Redis. `requestIds`: the
   * request each fact came with, in fact order (a batch holds several requests' facts).
   */
  addBatch: (facts: SeenFact[], requestIds: (string | null)[]) => Promise<void>;
  /** Told when a failed batch's seen keys could not be forgotten (see forget). */
  onForgetFailed?: (err: Error, keys: number, final: boolean) => void;
}

interface Pending {
  key: string;
  fact: SeenFact;
  ttlMs: number;
  requestId: string | null;
  resolve: (standing: string | null) => void;
  reject: (err: Error) => void;
}

/**
 * Remembers and queues the seen facts of one api process. Everything submitted in the same
 * event-loop turn (flushed on setImmediate, or at `max`) is remembered in one pipeline of
 * `SET NX GET` and the new facts are queued as one job: per request, no Redis round trip of its
 * own, and per fact a share of one BullMQ add instead of one add each (docs/DECISIONS.md 7).
 */
export class SeenBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly deps: SeenBatcherDeps) {}

  /**
   * Resolves with null once the fact is queued, or with the event id already remembered under
   * its key (nothing queued). Rejects when Redis fails; then nothing of this fact is remembered.
   */
  submit(key: string, fact: SeenFact, ttlMs: number): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key: seenStoreKey(this.deps.prefix, key), fact, ttlMs, requestId: currentTrace()?.request_id ?? null, resolve, reject });
      if (this.pending.length >= this.deps.max) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // Run as part of no request: the batch holds several, each fact's request goes with it.
    void runWithTrace(undefined, () => this.run(batch));
  }

  private async run(batch: Pending[]): Promise<void> {
    let replies: [Error | null, unknown][];
    try {
      replies = await pipelinePerNode(this.deps.redis, batch, (p) => p.key, (pipeline, p) => pipeline.set(p.key, p.fact.event_id, 'PX', p.ttlMs, 'NX', 'GET'));
    } catch (err) {
      // A timeout or a dropped connection does not mean Redis did not run the SETs (a paused Redis
      // runs them when it resumes): forget them, or a retry would be "deduplicated" against a fact
      // never queued.
      void this.forget(batch);
      for (const p of batch) p.reject(err as Error);
      return;
    }
    // In pipeline order: a repeat of a key within the batch is answered with the first's id.
    const fresh: Pending[] = [];
    const unanswered: Pending[] = [];
    batch.forEach((p, i) => {
      const [err, standing] = replies[i] ?? [new Error('no reply from Redis'), null];
      if (err) {
        unanswered.push(p);
        p.reject(err);
      } else if (typeof standing === 'string') p.resolve(standing);
      else fresh.push(p);
    });
    // Same as above, per command: a timed-out SET may still run.
    if (unanswered.length > 0) void this.forget(unanswered);
    if (fresh.length === 0) return;
    try {
      await this.deps.addBatch(
        fresh.map((p) => p.fact),
        fresh.map((p) => p.requestId),
      );
    } catch (err) {
      // Nothing queued, so nothing may stay remembered: the client's retry must queue it.
      await this.forget(fresh);
      for (const p of fresh) p.reject(err as Error);
      return;
    }
    for (const p of fresh) p.resolve(null);
  }

  /**
   * Deletes the seen keys of a batch whose add failed, where they still hold its event ids. If
   * Redis fails that too (it failed the add a moment ago), it is tried again in the background
   * for ~15 s: meanwhile a repeat would be answered "deduplicated" for a fact never queued.
   */
  private async forget(batch: Pending[], tryNo = 1): Promise<void> {
    try {
      // On a Cluster the keys spread over slots: one script per slot.
      const { redis } = this.deps;
      await Promise.all(bySlot(redis, batch, (p) => p.key).map((group) => redis.eval(FORGET, group.length, ...group.map((p) => p.key), ...group.map((p) => p.fact.event_id))));
    } catch (err) {
      const final = tryNo >= FORGET_TRIES;
      this.deps.onForgetFailed?.(err as Error, batch.length, final);
      if (!final) setTimeout(() => void this.forget(batch, tryNo + 1), 500 * 2 ** tryNo).unref();
    }
  }
}
