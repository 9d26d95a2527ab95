import type { Db } from '../../src/platform/db.ts';

/**
 * Outbox rows still owed work. The one place that knows the row states: when they are renamed
 * (or a terminal `dead` state is added), only this query changes.
 */
export async function outboxRowsOwed(db: Db): Promise<number> {
  const [row] = (await db('outbox').whereNot('status', 'done').count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}
