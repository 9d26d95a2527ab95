import type { Db, Trx } from '../../platform/db.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';

/**
 * Records that `consumer` took this event, by the seed's pair (event_id, produced_at), in the
 * transaction of its effect. False: it took it before (a resend, a replay of the topic, a second
 * outbox row for the same event), and the effect must be skipped.
 */
export async function takeOnce(trx: Trx, consumer: string, envelope: Pick<Envelope, 'event_id' | 'produced_at'>, now = new Date()): Promise<boolean> {
  const [result] = (await trx.raw('INSERT IGNORE INTO consumed_events (consumer, event_id, produced_at, taken_at) VALUES (?, ?, ?, ?)', [
    consumer,
    envelope.event_id,
    envelope.produced_at,
    now,
  ])) as [{ affectedRows: number }];
  return result.affectedRows === 1;
}

/** Forgets pairs taken before `before`, a thousand rows at a time (consumed_events_taken index); returns how many. */
export async function pruneConsumed(db: Db, before: Date): Promise<number> {
  let total = 0;
  for (let n = -1; n !== 0; total += n) {
    n = await db('consumed_events').where('taken_at', '<', before).limit(1000).delete();
  }
  return total;
}
