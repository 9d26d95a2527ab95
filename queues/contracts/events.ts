import { registeredEvents } from '../../src/domain/events/catalog.ts';
import { TOPIC_APPEND_QUEUE } from '../../src/domain/events/topics.ts';
import { defineJob } from '../contract.ts';
import { AnyEnvelope } from '../outbox/envelope.ts';

// An event's rows carry its version: the topic appender takes every version of every event.
const NEWEST_EVENT_VERSION = Math.max(...registeredEvents.flatMap((e) => e.versions.map((v) => v.version)));

/** Jobs of the event registry itself, for every module's events. */
export const eventsContracts = {
  /**
   * Appends events to their topic's Redis stream. One job at a time across every worker (global
   * concurrency 1), taken in the order the relay added them (outbox id order), so one aggregate's
   * events reach the stream in commit order.
   */
  'events.topic-append': defineJob({
    queue: TOPIC_APPEND_QUEUE,
    description: "Append an event to its topic's Redis stream <prefix>:topic:<topic> (bounded, for consumer groups)",
    schema: AnyEnvelope,
    version: NEWEST_EVENT_VERSION,
    attempts: 25,
    backoff: { delayMs: 200, maxDelayMs: 30_000, jitter: 0.2 },
    concurrency: 1,
    globalConcurrency: 1,
    durable: true,
    keepCompleted: 500,
  }),
};
