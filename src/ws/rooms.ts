import type { Member } from './member.ts';

// Events are published at least once (a redelivered job publishes its events again); this many
// recent ids per room are enough to drop such repeats, which follow the original closely.
const RECENT_IDS = 512;

/** One room's local sockets and the ids of the events lately fanned out to them. */
export class Room {
  readonly members = new Set<Member>();
  private readonly recent = new Set<string>();
  private readonly order: string[] = [];
  private next = 0;

  /** Records the id; false when it was already fanned out here. */
  firstSight(eventId: string): boolean {
    if (this.recent.has(eventId)) return false;
    if (this.order.length < RECENT_IDS) this.order.push(eventId);
    else {
      this.recent.delete(this.order[this.next]!);
      this.order[this.next] = eventId;
      this.next = (this.next + 1) % RECENT_IDS;
    }
    this.recent.add(eventId);
    return true;
  }
}

/** The sockets of this process, by room. A room exists here while it has at least one socket. */
export class Rooms {
  private readonly rooms = new Map<string, Room>();
  private count = 0;

  add(member: Member): void {
    let room = this.rooms.get(member.room);
    if (!room) this.rooms.set(member.room, (room = new Room()));
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
    if (room.members.size === 0) this.rooms.delete(member.room);
    return true;
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
