import { randomUUID } from 'node:crypto';
import { BadRequest } from '../../platform/errors.ts';
import type { Integration, Integrations } from './integrations.ts';
import { seenKey, type Identity, type SeenFact, type SeenKind } from './seenFact.ts';
import type { SeenRecord, SeenStore } from './seenStore.ts';

export interface SeenDeps {
  store: SeenStore;
  integrations: Integrations;
  /** Queues the delivery; must not resolve before the job is safely in Redis. */
  enqueue: (fact: SeenFact, integration: Integration) => Promise<void>;
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
  const { first, record } = await deps.store.remember(key, fresh, integration.rememberMs);
  if (!first) return { event_id: record.event_id, deduplicated: true };
  try {
    await deps.enqueue({ ...record, tag: input.tag, id: input.id, kind: input.kind, identity: input.identity }, integration);
  } catch (err) {
    // Not queued, so not remembered: the client's retry must be able to queue it.
    await deps.store.forget(key).catch(() => undefined);
    throw err;
  }
  return { event_id: record.event_id, deduplicated: false };
}

export async function lookupSeen(deps: Pick<SeenDeps, 'store' | 'integrations'>, input: SeenInput): Promise<SeenRecord | null> {
  integrationFor(deps.integrations, input.tag);
  return deps.store.lookup(seenKey(input.kind, input.identity, input.tag, input.id));
}
