import type { Member } from './member.ts';

// Events are published at least once (a redelivered job publishes its events again); this many
// recent ids per room are enough to drop such repeats, which follow the original closely.
const RECENT_IDS = 512;

/** One room's local sockets and the ids of the events lately fanned out to them, in fan-out order. */
export class Room {
  readonly members = new Set<Member>();
  /** id → its place in fan-out order. */
  private readonly recent = new Map<string, number>();
  private readonly order: string[] = [];
  private next = 0;
  private seq = 0;

  /** Records the id; false when it was already fanned out here. */
  firstSight(eventId: string): boolean {
    if (this.recent.has(eventId)) return false;
    if (this.order.length < RECENT_IDS) this.order.push(eventId);
    else {
      this.recent.delete(this.order[this.next]!);
      this.order[this.next] = eventId;
      this.next = (this.next + 1) % RECENT_IDS;
    }
    this.recent.set(eventId, this.seq++);
    return true;
  }

  /**
   * Whether `eventId` was fanned out here before `since`: a socket that got `since` live got it
   * too, whatever order the history lists them in (rebuilt from MySQL after a Redis loss, the
   * history follows insert order, not the order events were published in).
   */
  fannedOutBefore(eventId: string, since: string): boolean {
    const at = this.recent.get(eventId);
    const cut = this.recent.get(since);
    return at !== undefined && cut !== undefined && at < cut;
  }
}

// Rooms whose last socket left keep their recent ids this long (and at most this many rooms): a
// refetch closes every socket of a room at once, and they come back with since moments later.
const IDLE_KEEP_MS = 5 * 60_000;
const IDLE_ROOMS = 1000;

/** The sockets of this process, by room. A room exists here while it has at least one socket. */
export class Rooms {
  private readonly rooms = new Map<string, Room>();
  /** Emptied rooms, oldest first, with when they emptied: their recent ids still drop repeats when sockets return. */
  private readonly idle = new Map<string, { room: Room; at: number }>();
  private count = 0;

  add(member: Member): void {
    let room = this.rooms.get(member.room);
    if (!room) this.rooms.set(member.room, (room = this.revive(member.room) ?? new Room()));
    if (!room.members.has(member)) {
      room.members.add(member);
      this.count++;
    }
  }

  /** Returns true when the member was there. */
  remove(member: Member): boolean {
    const room = this.rooms.get(member.room);
    if (!room?.members.delete(member)) return false;
    this.count--;
    if (room.members.size === 0) {
      this.rooms.delete(member.room);
      this.idle.set(member.room, { room, at: Date.now() });
      if (this.idle.size > IDLE_ROOMS) this.idle.delete(this.idle.keys().next().value!);
    }
    return true;
  }

  private revive(id: string): Room | undefined {
    const now = Date.now();
    // Oldest first: drop the expired ones at the front.
    for (const [key, { at }] of this.idle) {
      if (now - at <= IDLE_KEEP_MS) break;
      this.idle.delete(key);
    }
    const kept = this.idle.get(id);
    this.idle.delete(id);
    return kept?.room;
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  get(room: string): Room | undefined {
    return this.rooms.get(room);
  }

  *all(): IterableIterator<Member> {
    for (const room of this.rooms.values()) yield* room.members;
  }

  get size(): number {
    return this.count;
  }

  get roomCount(): number {
    return this.rooms.size;
  }
}
