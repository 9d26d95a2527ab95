import { bySlot, pipelinePerNode, type RedisClient } from '../../platform/redis.ts';
import { Unavailable } from '../../platform/errors.ts';
import type { SeenFact } from './seenFact.ts';

/** Where a fact is remembered: its own key, holding the first fact's event id for the remember window. */
export function seenStoreKey(prefix: string, key: string): string {
  return `${prefix}:seen:${key}`;
}

/**
 * A seen key holds `pending:<event id>` from the SET until the fact's job is in Redis, then the
 * event id alone. Only a confirmed id may answer "deduplicated": a pending one may never be queued.
 */
const PENDING = 'pending:';

/** How long a pending mark lives when nobody confirms or forgets it (its api died between SET and add). */
export const PENDING_TTL_MS = 15_000;

/** The event id remembered under this seen key, or null (also while its fact is not queued yet). */
export async function findSeen(redis: RedisClient, prefix: string, key: string): Promise<string | null> {
  const value = await redis.get(seenStoreKey(prefix, key));
  return value === null || value.startsWith(PENDING) ? null : value;
}

// Marking is a SET NX GET per key, all of a batch in one script (per hash slot on a Cluster): a
// command per fact would cost the api a command object, a promise and a reply each. Answers each
// key's standing value, false where there was none.
const MARK = `local standing = {}
for i, key in ipairs(KEYS) do standing[i] = redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i], 'NX', 'GET') end
return standing`;

// Confirming is a SET XX per key, no compare: it runs only after this batch's add succeeded, and a
// key names one fact, so whatever mark stands there (ours, or another api's after ours lapsed) may
// say "queued"; a key already gone stays gone. One script per batch (per hash slot on a Cluster):
// a command per fact would double the api's Redis commands.
const CONFIRM = `for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i], 'XX') end
return #KEYS`;

// Single-key (one hash slot each), sent as one pipeline per batch (per master on a Cluster).
// Deletes the key if it still holds this batch's pending mark; another writer's stays.
const FORGET = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

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
  /** Told when a queued batch's keys could not be confirmed (they stay pending until PENDING_TTL_MS). */
  onConfirmFailed?: (err: Error, keys: number) => void;
  /** PENDING_TTL_MS unless a test shortens it. */
  pendingTtlMs?: number;
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
 * event-loop turn (flushed on setImmediate, or at `max`) is marked pending in one script of
 * `SET NX GET`s, the new facts are queued as one job, then their marks are confirmed in one more
 * script: per request, no Redis round trip of its own, and per fact a share of one BullMQ add
 * instead of one add each (docs/DECISIONS.md 7).
 */
export class SeenBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  /** Keys this process has marked pending, until confirmed or forgotten: a repeat waits for the outcome. */
  private readonly inFlight = new Map<string, { eventId: string; queued: Promise<boolean> }>();

  constructor(private readonly deps: SeenBatcherDeps) {}

  /**
   * Resolves with null once the fact is queued, or with the event id already queued under its
   * key (nothing queued). Rejects when Redis fails, or (503) while another process is still
   * queueing the same key; then nothing of this fact is remembered.
   */
  submit(key: string, fact: SeenFact, ttlMs: number, requestId: string | null): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key: seenStoreKey(this.deps.prefix, key), fact, ttlMs, requestId, resolve, reject });
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
    // The batch holds several requests' facts: each fact's request goes with it (requestIds).
    void this.run(batch);
  }

  private async run(batch: Pending[]): Promise<void> {
    const pendingTtl = this.deps.pendingTtlMs ?? PENDING_TTL_MS;
    const replies = await this.mark(batch, pendingTtl);
    const fresh: Pending[] = [];
    const unanswered: Pending[] = [];
    let settle!: (queued: boolean) => void;
    const outcome = new Promise<boolean>((resolve) => (settle = resolve));
    batch.forEach((p, i) => {
      const [err, standing] = replies[i]!;
      if (err) {
        unanswered.push(p);
        p.reject(err);
      } else if (standing === null) {
        fresh.push(p);
        // In batch order: a repeat of this key later in the batch finds it here.
        this.inFlight.set(p.key, { eventId: p.fact.event_id, queued: outcome });
      } else this.answerStanding(p, standing);
    });
    // A timeout or a dropped connection does not mean Redis did not run the SETs (a paused Redis
    // runs them when it resumes): forget them. Until then they are only pending, never an answer.
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
      this.leave(fresh);
      settle(false);
      for (const p of fresh) p.reject(err as Error);
      return;
    }
    // Confirmed before answering, so a 200 is followed by a GET that says seen. A failed confirm
    // leaves the marks pending (repeats answer 503 until they lapse): the facts are queued all the same.
    await this.confirm(fresh);
    this.leave(fresh);
    settle(true);
    for (const p of fresh) p.resolve(null);
  }

  /**
   * Marks each fact's key pending unless it holds a value: the replies in batch order, each the
   * value standing there (null: none, the fact is fresh) or the error its group met.
   */
  private async mark(batch: Pending[], pendingTtl: number): Promise<[Error | null, string | null][]> {
    const replies = new Array<[Error | null, string | null]>(batch.length);
    const groups = bySlot(this.deps.redis, batch.map((p, i) => ({ p, i })), ({ p }) => p.key);
    await Promise.all(
      groups.map(async (group) => {
        try {
          const keys = group.map(({ p }) => p.key);
          const args = group.flatMap(({ p }) => [PENDING + p.fact.event_id, Math.min(p.ttlMs, pendingTtl)]);
          const standing = (await this.deps.redis.eval(MARK, keys.length, ...keys, ...args)) as (string | null)[];
          group.forEach(({ i }, j) => (replies[i] = [null, standing[j] ?? null]));
        } catch (err) {
          for (const { i } of group) replies[i] = [err as Error, null];
        }
      }),
    );
    return replies;
  }

  /**
   * A key that already holds a value: a confirmed id answers "deduplicated"; a pending mark of
   * this process waits for its batch; another process's pending mark is refused with 503 (its
   * add may still fail, and then the fact would be lost behind a "deduplicated").
   */
  private answerStanding(p: Pending, standing: string): void {
    if (!standing.startsWith(PENDING)) return p.resolve(standing);
    const eventId = standing.slice(PENDING.length);
    // The first of this key in this batch, or in an earlier batch of this process still running.
    const mine = this.inFlight.get(p.key);
    if (mine?.eventId !== eventId) return p.reject(new Unavailable('the same fact is being queued by another request; retry'));
    void mine.queued.then((ok) => (ok ? p.resolve(eventId) : p.reject(new Unavailable('the same fact failed to queue; retry'))));
  }

  private leave(batch: Pending[]): void {
    for (const p of batch) if (this.inFlight.get(p.key)?.eventId === p.fact.event_id) this.inFlight.delete(p.key);
  }

  private async confirm(batch: Pending[]): Promise<void> {
    try {
      await Promise.all(
        bySlot(this.deps.redis, batch, (p) => p.key).map((group) =>
          this.deps.redis.eval(CONFIRM, group.length, ...group.map((p) => p.key), ...group.flatMap((p) => [p.fact.event_id, p.ttlMs])),
        ),
      );
    } catch (err) {
      this.deps.onConfirmFailed?.(err as Error, batch.length);
    }
  }

  /**
   * Deletes the pending marks of a batch whose add failed, where they still hold its event ids.
   * If Redis fails that too (it failed the add a moment ago), it is tried again in the background
   * for ~15 s; meanwhile a repeat is refused with 503, and the mark lapses after PENDING_TTL_MS anyway.
   */
  private async forget(batch: Pending[], tryNo = 1): Promise<void> {
    try {
      const replies = await pipelinePerNode(this.deps.redis, batch, (p) => p.key, (pipeline, p) => pipeline.eval(FORGET, 1, p.key, PENDING + p.fact.event_id));
      const err = replies.find(([e]) => e)?.[0];
      if (err) throw err;
    } catch (err) {
      const final = tryNo >= FORGET_TRIES;
      this.deps.onForgetFailed?.(err as Error, batch.length, final);
      if (!final) setTimeout(() => void this.forget(batch, tryNo + 1), 500 * 2 ** tryNo).unref();
    }
  }
}
