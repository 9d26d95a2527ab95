import { visibleTo, type ChatEvent } from '../domain/chat/chatEvent.ts';

export interface Replay {
  /** What the client missed: events after `since` it may see, oldest first, each once. */
  missed: ChatEvent[];
  /** Every id the client now has or was sent (the history up to and after `since`): live repeats of these are skipped. */
  known: Set<string>;
}

/**
 * The replay for a socket reconnecting with `since`, from a room's history (newest first, as
 * roomHistory returns it). Null when `since` is no longer in the history: the client must refetch.
 * `hadBeforeSince`: events this process fanned out before `since` (rooms.ts), which the client has.
 */
export function replayAfter(history: readonly ChatEvent[], since: string, viewer: string, hadBeforeSince: (eventId: string) => boolean = () => false): Replay | null {
  const at = history.findIndex((e) => e.event_id === since);
  if (at < 0) return null;
  // Events are published at least once, so an id may sit in the list twice; older ones the client has.
  const known = new Set<string>();
  for (let i = at; i < history.length; i++) known.add(history[i]!.event_id);
  const missed: ChatEvent[] = [];
  for (let i = at - 1; i >= 0; i--) {
    const event = history[i]!;
    if (known.has(event.event_id)) continue;
    known.add(event.event_id);
    // Listed after since but published before it: the client got it live before since.
    if (visibleTo(event, viewer) && !hadBeforeSince(event.event_id)) missed.push(event);
  }
  return { missed, known };
}
