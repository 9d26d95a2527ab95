import { PermanentError } from '../../src/platform/errors.ts';
import { selectRows } from '../../src/platform/sql.ts';
import type { JobContract } from '../../queues/contract.ts';
import { durableJob } from '../../queues/outbox/processors.ts';
import type { JobContext } from '../../queues/processor.ts';

// The outbox runner with nothing to do but lock the row and mark it done.
const markDone = durableJob<JobContract>(async () => undefined);

/**
 * A durable job too long for one transaction (a reshuffle, a payout run): `work` commits batch by
 * batch and is safe to run again from the start (it resumes from what it committed). The outbox
 * row is marked done only at the end, so a run killed mid-way is redelivered (stalled job, or the
 * reconciler after a Redis loss) and resumes.
 */
export async function runLong<P>(ctx: JobContext<P>, work: () => Promise<unknown>): Promise<unknown> {
  const { outboxId, services } = ctx;
  if (!outboxId) throw new PermanentError('a durable job must come from the outbox', 'not_from_outbox');
  const rows = await selectRows<{ status: string }>(services.db, 'SELECT status FROM outbox WHERE id = ?', [outboxId]);
  if (rows[0]?.status === 'done') return { duplicate: true };
  const result = await work();
  await markDone(ctx as JobContext<unknown>);
  return result;
}
