import type { Services } from '../src/services.ts';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

/** Fills the gauges that are read at scrape time: job counts per queue, the outbox backlog and its dead rows. */
export async function collectScrapeGauges(services: Services, queueNames: readonly string[]): Promise<void> {
  const { metrics, queues, db, clock } = services;
  await Promise.all(
    queueNames.map(async (name) => {
      const counts = await queues.get(name).getJobCounts(...STATES);
      for (const state of STATES) metrics.queueJobs.set({ queue: name, state }, counts[state] ?? 0);
    }),
  );
  const rows = (await db('outbox').select('status').count({ n: '*' }).min({ oldest: 'created_at' }).whereIn('status', ['pending', 'relayed', 'dead']).groupBy('status')) as {
    status: string;
    n: number;
    oldest: Date | null;
  }[];
  let oldest = Infinity;
  for (const status of ['pending', 'relayed', 'dead']) {
    const row = rows.find((r) => r.status === status);
    metrics.outboxBacklog.set({ status }, Number(row?.n ?? 0));
    // Dead rows wait for an operator, not for the pipeline: they are counted, not aged.
    if (row?.oldest && status !== 'dead') oldest = Math.min(oldest, new Date(row.oldest).getTime());
  }
  metrics.outboxOldestAge.set(Number.isFinite(oldest) ? Math.max(0, (clock.now() - oldest) / 1000) : 0);
}
