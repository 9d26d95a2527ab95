import type { Redis } from 'ioredis';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { eventRegistry } from './catalog.ts';
import { topicEntry, topicStream } from './topics.ts';

export interface TopicDeps {
  redis: Redis;
  prefix: string;
  /** XADD MAXLEN ~ this (TOPIC_MAX_LENGTH). */
  maxLength: number;
}

/**
 * Appends, in the order given, the envelopes whose registered event names `carrier` as the listener
 * that appends it (RegisteredEvent.appendedBy), in one pipeline: one round trip per batch. The
 * carrier calls it inside its transaction, after its effect: a failed append rolls the batch back
 * and a rolled-back batch is retried, so every event is appended at least once, before its rows
 * are marked done. Readers drop repeats by (event_id, produced_at).
 */
export async function appendCarried(deps: TopicDeps, carrier: string, envelopes: readonly Envelope[]): Promise<number> {
  const pipeline = deps.redis.pipeline();
  let n = 0;
  for (const envelope of envelopes) {
    const event = eventRegistry.event(envelope.event_name);
    if (event?.appendedBy !== carrier) continue;
    pipeline.xadd(topicStream(deps.prefix, event.topic), 'MAXLEN', '~', String(deps.maxLength), '*', ...topicEntry(envelope));
    n++;
  }
  if (n === 0) return 0;
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0]!;
  return n;
}
