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
  metrics.scrapeRefreshes.inc();
}

/**
 * The scrape-time gauges, recomputed at most once per `maxAgeMs`: a getJobCounts per queue and
 * an outbox GROUP BY are too dear to run for every (possibly anonymous) scrape. Scrapes that
 * arrive while one computes wait for it instead of starting their own.
 */
export class ScrapeGauges {
  private computedAt = -Infinity;
  private running: Promise<void> | null = null;

  constructor(
    private readonly services: Services,
    private readonly queueNames: readonly string[],
    private readonly maxAgeMs: number,
  ) {}

  refresh(): Promise<void> {
    if (this.running) return this.running;
    if (performance.now() - this.computedAt < this.maxAgeMs) return Promise.resolve();
    this.running = collectScrapeGauges(this.services, this.queueNames)
      // A failure waits out the window too: scrapes during an outage must not pile onto it.
      .catch((err: unknown) => this.services.log.warn({ err }, 'scrape gauges failed'))
      .finally(() => {
        this.computedAt = performance.now();
        this.running = null;
      });
    return this.running;
  }
}
