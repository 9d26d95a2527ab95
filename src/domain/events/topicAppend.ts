import { pipelinePerNode, type RedisClient } from '../../platform/redis.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { eventRegistry } from './catalog.ts';
import { topicEntry, topicStream } from './topics.ts';

export interface TopicDeps {
  redis: RedisClient;
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
  const appends: { stream: string; envelope: Envelope }[] = [];
  for (const envelope of envelopes) {
    const event = eventRegistry.event(envelope.event_name);
    if (event?.appendedBy === carrier) appends.push({ stream: topicStream(deps.prefix, event.topic), envelope });
  }
  if (appends.length === 0) return 0;
  // One stream keeps its order: its appends share a slot, so they go out in one pipeline.
  const results = await pipelinePerNode(deps.redis, appends, (a) => a.stream, (pipeline, a) => pipeline.xadd(a.stream, 'MAXLEN', '~', String(deps.maxLength), '*', ...topicEntry(a.envelope)));
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0]!;
  return appends.length;
}
