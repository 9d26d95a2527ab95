/** The Redis stream of a topic: `<QUEUE_PREFIX>:topic:<name>` (mark-notify's topic integrations use the same form). */
export function topicStream(prefix: string, topic: string): string {
  return `${prefix}:topic:${topic}`;
}
