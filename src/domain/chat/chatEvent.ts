import { hashTag } from '../../platform/keySlot.ts';

/**
 * A chat event as history and WebSocket clients see it (API.md, "ws"): the same object in both.
 * `audience` is routing metadata, never sent: null for public events, else the uuids allowed to see it
 * (the sender and the room owner).
 */
export type ChatEventType = 'message' | 'donate' | 'change_sponsor' | 'goal_reached' | 'goal_progress' | 'donation_rejected';

export interface ChatEvent {
  type: ChatEventType;
  event_id: string;
  /** The room id: the model's uuid. */
  room: string;
  /** ISO time the event happened. */
  at: string;
  data: Record<string, unknown>;
  audience: string[] | null;
}

export type WireEvent = Omit<ChatEvent, 'audience'>;

export function visibleTo(event: Pick<ChatEvent, 'audience'>, viewer: string): boolean {
  return event.audience === null || event.audience.includes(viewer);
}

export function toWire(event: ChatEvent): WireEvent {
  const { audience: _audience, ...wire } = event;
  return wire;
}

/**
 * Redis pub/sub channel a room's events are published on; ws nodes subscribe per room. On a
 * Cluster (`cluster`) the room is a hash tag: the channel and the history list share a slot, and
 * the sharded channel (SPUBLISH/SSUBSCRIBE) lives on that slot's master only.
 */
export function roomChannel(prefix: string, room: string, cluster = false): string {
  return `${prefix}:chat:room:${hashTag(cluster, room)}`;
}

/** The room a roomChannel() names, or null for another channel. */
export function roomOfChannel(prefix: string, channel: string): string | null {
  const start = roomChannel(prefix, '');
  if (!channel.startsWith(start)) return null;
  const room = channel.slice(start.length);
  return room.startsWith('{') && room.endsWith('}') ? room.slice(1, -1) : room;
}

/** Redis list holding a room's recent events (newest first), the history cache. */
export function historyKey(prefix: string, room: string, cluster = false): string {
  return `${prefix}:chat:history:${hashTag(cluster, room)}`;
}

/**
 * How events are stored for history and replay (shared by the chat module and the ws server):
 * - history: a Redis list at historyKey(), JSON ChatEvent per entry, newest first (LPUSH), trimmed
 *   to HISTORY_KEEP entries; readers filter by time window and visibility. Rebuilt from MySQL's
 *   chat_events table when the key is missing.
 * - live: PUBLISH roomChannel() with the JSON ChatEvent, after the event is in the history list
 *   (SPUBLISH on a Redis Cluster).
 */
export const HISTORY_KEEP = 200;
