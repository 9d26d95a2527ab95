import type { Envelope } from '../../../queues/outbox/envelope.ts';

/** The batched listener queue that appends events to their topics' streams (jobs/events/topic-append.ts). */
export const TOPIC_APPEND_QUEUE = 'events.topic-append';

/** The Redis stream of a topic: `<QUEUE_PREFIX>:topic:<name>` (mark-notify's topic integrations use the same form). */
export function topicStream(prefix: string, topic: string): string {
  return `${prefix}:topic:${topic}`;
}

/** A topic entry's fields: the envelope, its payload as JSON. Every appender writes this form. */
export function topicEntry(envelope: Envelope): string[] {
  return [
    'event_id',
    envelope.event_id,
    'event_name',
    envelope.event_name,
    'event_version',
    String(envelope.event_version),
    'produced_at',
    envelope.produced_at,
    'payload',
    JSON.stringify(envelope.payload),
  ];
}
