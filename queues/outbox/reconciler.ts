import type { Logger } from 'pino';
import { withTransaction, type Db } from '../../src/platform/db.ts';
import type { Clock } from '../../src/platform/clock.ts';
import { repeatEvery, type Repeating } from '../../src/platform/repeat.ts';
import type { QueueSet } from '../producer.ts';
import { outboxJobId, type JobContract } from '../contract.ts';
import { addRowsToQueues, type OutboxRow } from './relay.ts';
import { PAYLOAD_COLUMNS } from './writer.ts';
import { pipelinePerNode } from '../../src/platform/redis.ts';

/**
 * Finds outbox rows that were relayed but are neither done nor present in Redis (Redis was wiped,
 * failed over without AOF, or a key was evicted) and adds them again under the same jobId.
 */
export class OutboxReconciler {
  private loop: Repeating | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Db,
    private readonly queues: QueueSet,
    private readonly contracts: ReadonlyMap<string, JobContract>,
    private readonly log: Logger,
    /** clock: the time base of available_at (services.clock); the remaining delay is computed in it. */
    private readonly opts: { everyMs: number; graceMs: number; batchSize: number; clock?: Clock },
  ) {}

  start(): void {
    this.loop = repeatEvery(this.opts.everyMs, () => this.runOnce(), this.log, 'outbox reconcile');
  }

  /** One full pass; returns how many rows were re-enqueued. */
  async runOnce(now = Date.now()): Promise<number> {
    if (!this.running) this.running = this.pass(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(now: number): Promise<number> {
    const cutoff = new Date(now - this.opts.graceMs);
    let lastId = 0;
    let restored = 0;
    for (;;) {
      const rows = (await this.db('outbox')
        .select('id', 'queue', ...PAYLOAD_COLUMNS, 'available_at')
        .where('status', 'relayed')
        .andWhere('relayed_at', '<', cutoff)
        .andWhere('id', '>', lastId)
        .orderBy('id')
        .limit(this.opts.batchSize)) as OutboxRow[];
      if (rows.length === 0) return restored;
      lastId = rows[rows.length - 1]!.id;

      // A job is lost when BullMQ no longer has it in any state: gone entirely, or a hash left
      // behind without its list entry (a wipe that raced a worker). The latter is deleted first,
      // or the re-add under the same jobId would be ignored.
      const states = await Promise.all(rows.map((row) => this.queues.get(row.queue).getJobState(outboxJobId(row.id))));
      const missing = rows.filter((_, i) => states[i] === 'unknown');
      if (missing.length > 0) {
        const jobKey = (row: OutboxRow) => this.queues.get(row.queue).toKey(outboxJobId(row.id));
        await pipelinePerNode(this.queues.commandConnection(), missing, jobKey, (pipeline, row) => pipeline.del(jobKey(row)));
        await addRowsToQueues(this.queues, this.contracts, missing, this.opts.clock?.now() ?? now);
        // Bookkeeping only (when it was last put back); a row a running job holds is skipped.
        await withTransaction(
          this.db,
          async (trx) => {
            const ids = missing.map((r) => r.id);
            const [free] = (await trx.raw(
              `SELECT id FROM outbox WHERE id IN (${ids.map(() => '?').join(', ')}) AND status = 'relayed' FOR UPDATE SKIP LOCKED`,
              ids,
            )) as [{ id: number }[]];
            if (free.length === 0) return;
            await trx('outbox')
              .whereIn('id', free.map((r) => r.id))
              .update({ relayed_at: new Date(now), relay_count: trx.raw('relay_count + 1') });
          },
          { isolationLevel: 'read committed', attempts: 1 },
        ).catch((err: unknown) => this.log.debug({ err }, 'reconciler bookkeeping skipped'));
        restored += missing.length;
        this.log.warn({ count: missing.length, first: missing[0]!.id }, 'outbox rows missing from Redis were re-enqueued');
      }
    }
  }

  async stop(): Promise<void> {
    this.loop?.stop();
    await this.running?.catch(() => undefined);
  }
}
