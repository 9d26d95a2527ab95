import { BadRequest } from '../../platform/errors.ts';
import { eventTime, newEventId } from './eventId.ts';
import type { Integration, Integrations } from './integrations.ts';
import { seenKey, type Identity, type SeenFact, type SeenKind } from './seenFact.ts';

export interface SeenDeps {
  integrations: Integrations;
  /**
   * Remembers the fact under its seen key for ttlMs unless a fact is already remembered there,
   * and queues its delivery; resolves with null once it is safely queued, or with the event id
   * that stands (nothing queued). On failure nothing stays remembered (seenBatcher.ts).
   */
  remember: (key: string, fact: SeenFact, ttlMs: number, requestId: string | null) => Promise<string | null>;
  /** The event id remembered under this seen key inside its window, or null. */
  findSeen: (key: string) => Promise<string | null>;
  now: () => number;
}

export interface SeenInput {
  kind: SeenKind;
  identity: Identity;
  tag: string;
  id: string;
  /** The request that saw it, for the delivery job's log lines. */
  requestId?: string | null;
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
 * The seen store is a key per (kind, identity, tag, id), first writer wins, kept for the remember
 * window: it holds the first fact's event id, and the event id carries the fact's time
 * (eventId.ts), so what is remembered is the id alone.
 */
export async function recordSeen(deps: SeenDeps, input: SeenInput): Promise<{ event_id: string; deduplicated: boolean }> {
  const integration = integrationFor(deps.integrations, input.tag);
  const key = seenKey(input.kind, input.identity, input.tag, input.id);
  const now = Math.floor(deps.now());
  const eventId = newEventId(now);
  const fact: SeenFact = { event_id: eventId, seen_at: new Date(now).toISOString(), tag: input.tag, id: input.id, kind: input.kind, identity: input.identity };
  const standing = await deps.remember(key, fact, integration.rememberMs, input.requestId ?? null);
  return standing === null ? { event_id: eventId, deduplicated: false } : { event_id: standing, deduplicated: true };
}

export async function lookupSeen(deps: Pick<SeenDeps, 'findSeen' | 'integrations'>, input: SeenInput): Promise<SeenRecord | null> {
  integrationFor(deps.integrations, input.tag);
  const eventId = await deps.findSeen(seenKey(input.kind, input.identity, input.tag, input.id));
  if (eventId === null) return null;
  const at = eventTime(eventId);
  return { event_id: eventId, seen_at: at === null ? null : new Date(at).toISOString() };
}
