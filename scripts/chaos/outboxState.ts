import type { Db } from '../../src/platform/db.ts';

/**
 * Outbox rows still owed work: neither done nor dead (a dead row waits for an operator, counted
 * apart by the scenarios that expect one). The one place that knows the row states.
 */
export async function outboxRowsOwed(db: Db): Promise<number> {
  const [row] = (await db('outbox').whereNotIn('status', ['done', 'dead']).count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}
