import { Type } from '@sinclair/typebox';
import { registeredEvents } from '../../src/domain/events/catalog.ts';
import { TOPIC_APPEND_QUEUE } from '../../src/domain/events/topics.ts';
import { defineJob } from '../contract.ts';
import { AnyEnvelope } from '../outbox/envelope.ts';

// An event's rows carry its version: the topic appender takes every version of every event.
const NEWEST_EVENT_VERSION = Math.max(...registeredEvents.flatMap((e) => e.versions.map((v) => v.version)));

/**
 * An envelope of a registered event: a claimed batch leaves a row naming any other event undone,
 * for its own job to fail visibly (and go dead) instead of failing every batch it lands in.
 */
const TopicEnvelope = Type.Object(
  { ...AnyEnvelope.properties, event_name: Type.Union(registeredEvents.map((e) => Type.Literal(e.name))) },
  { additionalProperties: false },
);

/** Jobs of the event registry itself, for every module's events. */
export const eventsContracts = {
  /**
   * Appends events to their topic's Redis stream, in batches (TOPIC_APPEND_BATCH): a job claims the
   * queue's rows in outbox id order and appends them, one script per stream. One job at a time across
   * every worker (global concurrency 1), so batches never overlap and one aggregate's events reach
   * the stream in commit order.
   */
  'events.topic-append': defineJob({
    queue: TOPIC_APPEND_QUEUE,
    description: "Append events to their topics' Redis streams <prefix>:topic:<topic> (bounded, for consumer groups), a batch per job",
    schema: TopicEnvelope,
    version: NEWEST_EVENT_VERSION,
    attempts: 25,
    backoff: { delayMs: 200, maxDelayMs: 30_000, jitter: 0.2 },
    concurrency: 1,
    globalConcurrency: 1,
    durable: true,
    batched: true,
    keepCompleted: 500,
  }),
};
