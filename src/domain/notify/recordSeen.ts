import { randomUUID } from 'node:crypto';
import { BadRequest } from '../../platform/errors.ts';
import type { Integration, Integrations } from './integrations.ts';
import { seenKey, type Identity, type SeenFact, type SeenKind } from './seenFact.ts';
import type { SeenRecord, SeenStore } from './seenStore.ts';

export interface SeenDeps {
  store: SeenStore;
  integrations: Integrations;
  /**
   * Queues the delivery unless a job with the same dedupe key was queued inside ttlMs; resolves
   * with the id of the job that stands (the fact's event_id when this call queued it), and not
   * before it is safely in Redis.
   */
  enqueue: (fact: SeenFact, integration: Integration, dedupe: { key: string; ttlMs: number }) => Promise<string>;
  now: () => number;
}

export interface SeenInput {
  kind: SeenKind;
  identity: Identity;
  tag: string;
  id: string;
}

export function integrationFor(integrations: Integrations, tag: string): Integration {
  const integration = integrations.get(tag);
  if (!integration) throw new BadRequest(`unknown tag "${tag}"`, 'unknown_tag');
  return integration;
}

/**
 * Records that a notification was seen and queues its delivery. A repeat inside the tag's
 * remember window answers with the first event id and queues nothing.
 */
export async function recordSeen(deps: SeenDeps, input: SeenInput): Promise<{ event_id: string; deduplicated: boolean }> {
  const integration = integrationFor(deps.integrations, input.tag);
  const key = seenKey(input.kind, input.identity, input.tag, input.id);
  const fresh: SeenRecord = { event_id: randomUUID(), seen_at: new Date(deps.now()).toISOString() };
  const fact: SeenFact = { ...fresh, tag: input.tag, id: input.id, kind: input.kind, identity: input.identity };
  // Both go out in one round trip. Each is atomic on the same key: the seen store answers GET and
  // recognises repeats; the queue's own deduplication makes sure a repeat never queues a job.
  const [remembered, queued] = await Promise.allSettled([
    deps.store.remember(key, fresh, integration.rememberMs),
    deps.enqueue(fact, integration, { key, ttlMs: integration.rememberMs }),
  ]);
  if (queued.status === 'rejected') {
    // Not queued, so not remembered: the client's retry must be able to queue it.
    if (remembered.status === 'fulfilled' && remembered.value.first) await deps.store.forget(key).catch(() => undefined);
    throw queued.reason;
  }
  // Queued but not remembered: the client retries, the queue deduplicates, the retry remembers.
  if (remembered.status === 'rejected') throw remembered.reason;
  if (queued.value !== fresh.event_id) return { event_id: queued.value, deduplicated: true };
  const { first, record } = remembered.value;
  return first ? { event_id: record.event_id, deduplicated: false } : { event_id: record.event_id, deduplicated: true };
}

export async function lookupSeen(deps: Pick<SeenDeps, 'store' | 'integrations'>, input: SeenInput): Promise<SeenRecord | null> {
  integrationFor(deps.integrations, input.tag);
  return deps.store.lookup(seenKey(input.kind, input.identity, input.tag, input.id));
}
