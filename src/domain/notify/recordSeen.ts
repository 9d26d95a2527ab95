import { BadRequest } from '../../platform/errors.ts';
import { eventTime, newEventId } from './eventId.ts';
import type { Integration, Integrations } from './integrations.ts';
import { seenKey, type Identity, type SeenFact, type SeenKind } from './seenFact.ts';

export interface SeenDeps {
  integrations: Integrations;
  /**
   * Queues the delivery unless a delivery with the same dedupe key was queued inside ttlMs;
   * resolves with the event id of the delivery that stands (the fact's own when this call queued
   * it), and not before it is safely in Redis.
   */
  enqueue: (fact: SeenFact, integration: Integration, dedupe: { key: string; ttlMs: number }) => Promise<string>;
  /** The event id of the delivery queued under this dedupe key inside its window, or null. */
  findQueued: (key: string) => Promise<string | null>;
  now: () => number;
}

export interface SeenInput {
  kind: SeenKind;
  identity: Identity;
  tag: string;
  id: string;
}

export interface SeenRecord {
  event_id: string;
  /** From the event id; null only for an id that carries no time (not made by newEventId). */
  seen_at: string | null;
}

export function integrationFor(integrations: Integrations, tag: string): Integration {
  const integration = integrations.get(tag);
  if (!integration) throw new BadRequest(`unknown tag "${tag}"`, 'unknown_tag');
  return integration;
}

/**
 * Records that a notification was seen and queues its delivery. A repeat inside the tag's
 * remember window answers with the first event id and queues nothing.
 *
 * The seen store is the delivery queue's own deduplication record (first writer wins, kept for
 * the remember window): it holds the first fact's event id, and the event id carries the fact's
 * time (eventId.ts), so remembering and queueing are one atomic Redis command.
 */
export async function recordSeen(deps: SeenDeps, input: SeenInput): Promise<{ event_id: string; deduplicated: boolean }> {
  const integration = integrationFor(deps.integrations, input.tag);
  const key = seenKey(input.kind, input.identity, input.tag, input.id);
  const now = Math.floor(deps.now());
  const eventId = newEventId(now);
  const fact: SeenFact = { event_id: eventId, seen_at: new Date(now).toISOString(), tag: input.tag, id: input.id, kind: input.kind, identity: input.identity };
  const queued = await deps.enqueue(fact, integration, { key, ttlMs: integration.rememberMs });
  return { event_id: queued, deduplicated: queued !== eventId };
}

export async function lookupSeen(deps: Pick<SeenDeps, 'findQueued' | 'integrations'>, input: SeenInput): Promise<SeenRecord | null> {
  integrationFor(deps.integrations, input.tag);
  const eventId = await deps.findQueued(seenKey(input.kind, input.identity, input.tag, input.id));
  if (eventId === null) return null;
  const at = eventTime(eventId);
  return { event_id: eventId, seen_at: at === null ? null : new Date(at).toISOString() };
}
