import { pipelinePerNode, type RedisClient } from '../../platform/redis.ts';
import type { Backoff } from '../../platform/backoff.ts';
import { PermanentError } from '../../platform/errors.ts';
import { deliverHttp, RetryableDeliveryError, topicEntry, topicStream } from './deliverSeen.ts';
import type { Integration, Integrations } from './integrations.ts';
import type { SeenFact } from './seenFact.ts';

/** How one fact's delivery in a batch went. `endedAt` (performance.now()) is when its call settled. */
export type FactOutcome =
  | { fact: SeenFact; integration: Integration; ok: true; seconds: number }
  | { fact: SeenFact; integration: Integration | null; ok: false; retryable: boolean; message: string; code: string; seconds: number; endedAt: number };

/**
 * The backoff of a fact's own job after `spent` calls were made elsewhere (its batch's): its
 * n-th retry waits what the (n + spent)-th would have, since min(max, d·2^s·2^(n-1)) =
 * min(max, d·2^(n+s-1)). So the consumer sees the gaps of a fact delivered alone.
 */
export function continuedBackoff(backoff: Backoff, spent: number): Backoff {
  return { ...backoff, delayMs: backoff.delayMs * 2 ** spent };
}

function failed(fact: SeenFact, integration: Integration | null, err: unknown, started: number): FactOutcome {
  const endedAt = performance.now();
  const retryable = err instanceof RetryableDeliveryError;
  const code = err instanceof PermanentError ? err.code : retryable ? 'delivery_failed' : 'delivery_error';
  return { fact, integration, ok: false, retryable, message: (err as Error).message, code, seconds: (endedAt - started) / 1000, endedAt };
}

async function deliverTopics(deps: { redis: RedisClient; prefix: string }, topics: { fact: SeenFact; integration: Integration }[], started: number): Promise<FactOutcome[]> {
  let replies: [Error | null, unknown][] | null = null;
  let whole: unknown = null;
  try {
    const stream = (t: (typeof topics)[number]) => topicStream(deps.prefix, t.integration);
    replies = await pipelinePerNode(deps.redis, topics, stream, (pipeline, t) => pipeline.xadd(stream(t), 'MAXLEN', '~', '1000000', '*', ...topicEntry(t.fact)));
  } catch (err) {
    whole = err;
  }
  // Stream consumers deduplicate by event_id: a retry after a lost reply may append twice.
  return topics.map(({ fact, integration }, i): FactOutcome => {
    const err = whole ?? (replies ? replies[i]?.[0] : new Error('no reply from Redis'));
    if (err) return failed(fact, integration, new RetryableDeliveryError(`${integration.tag}: ${(err as Error).message}`, null), started);
    return { fact, integration, ok: true, seconds: (performance.now() - started) / 1000 };
  });
}

/**
 * Delivers every fact of a batch at once: HTTP facts each by its own call (all in flight
 * together), topic facts in one pipeline of XADDs. Never throws: each fact gets its outcome.
 */
export async function deliverSeenBatch(deps: { redis: RedisClient; prefix: string }, integrations: Integrations, facts: SeenFact[]): Promise<FactOutcome[]> {
  const started = performance.now();
  const calls: Promise<FactOutcome>[] = [];
  const topics: { fact: SeenFact; integration: Integration }[] = [];
  const unknown: FactOutcome[] = [];
  for (const fact of facts) {
    const integration = integrations.get(fact.tag);
    if (!integration) unknown.push(failed(fact, null, new PermanentError(`no integration for tag "${fact.tag}"`, 'unknown_tag'), started));
    else if (integration.delivery === 'topic') topics.push({ fact, integration });
    else {
      calls.push(
        deliverHttp(integration, fact).then(
          (): FactOutcome => ({ fact, integration, ok: true, seconds: (performance.now() - started) / 1000 }),
          (err: unknown) => failed(fact, integration, err, started),
        ),
      );
    }
  }
  const topicOutcomes = topics.length > 0 ? await deliverTopics(deps, topics, started) : [];
  return [...(await Promise.all(calls)), ...topicOutcomes, ...unknown];
}
