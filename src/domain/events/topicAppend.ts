import { PermanentError } from '../../platform/errors.ts';
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
  const appends: TopicAppend[] = [];
  for (const envelope of envelopes) {
    const event = eventRegistry.event(envelope.event_name);
    if (event?.appendedBy === carrier) appends.push({ stream: topicStream(deps.prefix, event.topic), envelope });
  }
  await appendToStreams(deps, appends);
  return appends.length;
}

/**
 * Appends every envelope to its registered event's topic, in the order given (the topic-append
 * queue's batch, in outbox id order). An unregistered event fails the whole batch: the contract
 * keeps such rows out of claimed batches, so only a row's own job meets one.
 */
export async function appendTopics(deps: TopicDeps, envelopes: readonly Envelope[]): Promise<void> {
  const appends = envelopes.map((envelope) => {
    const event = eventRegistry.event(envelope.event_name);
    if (!event) throw new PermanentError(`no registered event ${envelope.event_name}`, 'unknown_schema');
    return { stream: topicStream(deps.prefix, event.topic), envelope };
  });
  await appendToStreams(deps, appends);
}

interface TopicAppend {
  stream: string;
  envelope: Envelope;
}

/**
 * XADD MAXLEN ~ each, in one pipeline per node (cluster: per slot group). One stream's appends
 * share a slot, so they go out in one pipeline in the order given: each stream keeps its order.
 */
async function appendToStreams(deps: TopicDeps, appends: readonly TopicAppend[]): Promise<void> {
  if (appends.length === 0) return;
  const results = await pipelinePerNode(deps.redis, appends, (a) => a.stream, (pipeline, a) => pipeline.xadd(a.stream, 'MAXLEN', '~', String(deps.maxLength), '*', ...topicEntry(a.envelope)));
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0]!;
}
