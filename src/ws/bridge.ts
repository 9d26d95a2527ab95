import type { RedisClient } from '../platform/redis.ts';
import type { Logger } from '../platform/logger.ts';
import { roomChannel, roomOfChannel } from '../domain/chat/chatEvent.ts';

export interface BridgeOptions {
  prefix: string;
  /** Whether this process still has sockets in the room (read when a (un)subscribe runs). */
  wanted(room: string): boolean;
  onEvent(room: string, raw: string): void;
  /** Called after the subscriber reconnected: events published meanwhile were lost. */
  onResubscribed(): void;
  log: Logger;
}

/**
 * The one Redis subscriber connection of a ws process (on a Cluster: sharded SSUBSCRIBE, one
 * subscriber per master, each room on its slot's master). It is subscribed exactly to the rooms that
 * have local sockets: `sync(room)` brings the subscription in line with `wanted(room)`; syncs of
 * one room run one after another, so a join racing a leave always ends in the right state.
 */
export class RoomBridge {
  private readonly subscribed = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly sharded: boolean;
  private lost = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: BridgeOptions,
  ) {
    this.sharded = redis.isCluster;
    redis.on(this.sharded ? 'smessage' : 'message', (channel: string, message: string) => {
      const room = roomOfChannel(opts.prefix, channel);
      if (room !== null) opts.onEvent(room, message);
    });
    redis.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'ws subscriber redis error'));
    const lost = () => (this.lost = true);
    // ioredis re-subscribes by itself on reconnect (autoResubscribe; on a Cluster, once the slots of
    // a failed master have a new one); we only tell clients about the gap.
    const back = () => {
      if (!this.lost) return;
      this.lost = false;
      opts.log.warn({ rooms: this.subscribed.size }, 'ws subscriber reconnected; clients told to refetch');
      opts.onResubscribed();
    };
    redis.on('close', lost);
    redis.on('ready', back);
    if (this.sharded) {
      redis.on('-subscriber', lost);
      redis.on('subscribersReady', back);
    }
  }

  /** Resolves once the subscription of `room` matches whether it is wanted. */
  sync(room: string): Promise<void> {
    const previous = this.chains.get(room) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.apply(room));
    this.chains.set(room, next);
    const forget = () => {
      if (this.chains.get(room) === next) this.chains.delete(room);
    };
    next.then(forget, forget);
    return next;
  }

  isSubscribed(room: string): boolean {
    return this.subscribed.has(room);
  }

  get subscriptions(): number {
    return this.subscribed.size;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    this.redis.disconnect();
  }

  private async apply(room: string): Promise<void> {
    const want = this.opts.wanted(room);
    const channel = roomChannel(this.opts.prefix, room, this.sharded);
    if (want && !this.subscribed.has(room)) {
      await (this.sharded ? this.redis.ssubscribe(channel) : this.redis.subscribe(channel));
      this.subscribed.add(room);
    } else if (!want && this.subscribed.has(room)) {
      this.subscribed.delete(room);
      await (this.sharded ? this.redis.sunsubscribe(channel) : this.redis.unsubscribe(channel));
    }
  }
}
