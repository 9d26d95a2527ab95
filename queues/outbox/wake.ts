import type { Logger } from 'pino';
import type { Db } from '../../src/platform/db.ts';
import { selectRows } from '../../src/platform/sql.ts';
import { hashTag } from '../../src/platform/keySlot.ts';
import type { QueueSet } from '../producer.ts';
import { WAKE_JOB, type JobContract } from '../contract.ts';
import { traceFields, type Trace } from '../../src/platform/trace.ts';

/** How long a wake's marker outlives a wake job that never starts. */
const WAKE_MARKER_MS = 5_000;

/**
 * The key that says a wake job of this queue is waiting; its job deletes it as it starts. On a
 * Cluster it carries the queue's hash tag: a master that loses the queue loses its marker too.
 */
export function wakeMarker(prefix: string, queue: string, cluster = false): string {
  return `${prefix}:wake:${hashTag(cluster, queue)}`;
}

/**
 * Wakes batched queues: a wake job (WAKE_JOB, no payload) claims the queue's waiting rows. Added
 * after the commit, so a wake never starts before the rows it is for are visible. At most one wake
 * per queue waits at a time: a marker key is set with the job and deleted by the job as it starts,
 * before it claims; a commit that finds the marker set adds nothing, since the waiting job will see
 * its rows. The marker expires in case its job is never added or started. A lost wake (a crash
 * right after the commit, a Redis wipe) leaves the rows `relayed` with no job: the outbox's poll
 * wakes their queue (wakeWaiting), and the reconciler gives them jobs of their own after its grace.
 */
export class QueueWaker {
  constructor(
    private readonly db: Db,
    private readonly queues: QueueSet,
    private readonly contracts: ReadonlyMap<string, JobContract>,
    private readonly log: Logger,
  ) {}

  /** `trace`: the request whose commit wakes them, for the wake job's log lines. */
  wake(queues: Iterable<string>, trace?: Trace): void {
    for (const name of queues) void this.wakeOne(name, trace);
  }

  private async wakeOne(name: string, trace?: Trace): Promise<void> {
    const contract = this.contracts.get(name);
    const redis = this.queues.commandConnection();
    const marker = wakeMarker(this.queues.prefix, name, this.queues.hashTags);
    try {
      if ((await redis.set(marker, '1', 'PX', WAKE_MARKER_MS, 'NX')) === null) return;
      // The commit that woke it; the rows it claims each carry their own request (runner.ts).
      await this.queues.get(name).add(WAKE_JOB, { v: contract?.version ?? 1, payload: null, ...traceFields(trace) }, {
        attempts: contract?.attempts ?? 10,
        backoff: { type: 'contract' },
        // Kept like the queue's other jobs: Bull Board shows what each wake claimed (its return value).
        removeOnComplete: { count: contract?.keepCompleted ?? 1000 },
        removeOnFail: { count: 1000 },
      });
    } catch (err) {
      await redis.del(marker).catch(() => undefined);
      this.log.warn({ err, queue: name }, 'wake job not added; the next commit or the reconciler will pick its rows up');
    }
  }

  /**
   * Wakes every batched queue that has rows waiting: the poll's counterpart of a lost wake (a
   * process killed between its commit and the wake), which would otherwise wait for the
   * reconciler's grace. One dive into the (status, queue, id) index per queue, reading at most one
   * row each (a DISTINCT over the queues read every row waiting); the marker makes it add nothing
   * where a wake already waits.
   */
  async wakeWaiting(): Promise<void> {
    const batched = [...this.contracts.values()].filter((c) => c.batched).map((c) => c.queue);
    if (batched.length === 0) return;
    const dive = "(SELECT queue FROM outbox WHERE status = 'relayed' AND queue = ? LIMIT 1)";
    const waiting = await selectRows<{ queue: string }>(this.db, batched.map(() => dive).join(' UNION ALL '), batched);
    this.wake(waiting.map((row) => row.queue));
  }
}
