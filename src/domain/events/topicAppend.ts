import { PermanentError } from '../../platform/errors.ts';
import type { RedisClient } from '../../platform/redis.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { eventRegistry } from './catalog.ts';
import { TOPIC_FIELDS, topicValues, topicStream } from './topics.ts';

export interface TopicDeps {
  redis: RedisClient;
  prefix: string;
  /** XADD MAXLEN ~ this (TOPIC_MAX_LENGTH). */
  maxLength: number;
}

/**
 * Appends, in the order given, the envelopes whose registered event names `carrier` as the listener
 * that appends it (RegisteredEvent.appendedBy), one script per stream, all in flight together. The
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

// XADD MAXLEN ~ of each entry, in order: ARGV[1] is the bound, then each entry's values, in
// TOPIC_FIELDS' order. One script per stream: a command per event would cost the worker a command
// object, a promise and a reply each.
const APPEND = `local fields = {${TOPIC_FIELDS.map((f) => `'${f}'`).join(', ')}}
local n = #fields
for i = 2, #ARGV, n do
  local entry = {}
  for j = 1, n do entry[2 * j - 1] = fields[j]; entry[2 * j] = ARGV[i + j - 1] end
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(entry))
end
return (#ARGV - 1) / n`;

/**
 * Each stream's entries in one script, in the order given (a stream is one key, so one slot on a
 * Cluster), the streams' scripts all in flight together. A failure fails the batch, which is
 * retried; entries appended before it are appended again, and readers drop repeats.
 */
async function appendToStreams(deps: TopicDeps, appends: readonly TopicAppend[]): Promise<void> {
  const streams = new Map<string, string[]>();
  for (const a of appends) {
    const values = streams.get(a.stream) ?? streams.set(a.stream, [String(deps.maxLength)]).get(a.stream)!;
    values.push(...topicValues(a.envelope));
  }
  await Promise.all([...streams].map(([stream, values]) => deps.redis.eval(APPEND, 1, stream, ...values)));
}
