import type { Envelope } from '../../../queues/outbox/envelope.ts';

/** The batched listener queue that appends events to their topics' streams (jobs/events/topic-append.ts). */
export const TOPIC_APPEND_QUEUE = 'events.topic-append';

/** The Redis stream of a topic: `<QUEUE_PREFIX>:topic:<name>` (mark-notify's topic integrations use the same form). */
export function topicStream(prefix: string, topic: string): string {
  return `${prefix}:topic:${topic}`;
}

/** A topic entry's fields: the envelope, its payload as JSON. Every appender writes this form. */
export const TOPIC_FIELDS = ['event_id', 'event_name', 'event_version', 'produced_at', 'payload'] as const;

/** A topic entry's values, in TOPIC_FIELDS' order. */
export function topicValues(envelope: Envelope): string[] {
  return [envelope.event_id, envelope.event_name, String(envelope.event_version), envelope.produced_at, JSON.stringify(envelope.payload)];
}

/** A topic entry as XADD takes it: field, value, field, value. */
export function topicEntry(envelope: Envelope): string[] {
  const values = topicValues(envelope);
  return TOPIC_FIELDS.flatMap((field, i) => [field, values[i]!]);
}
