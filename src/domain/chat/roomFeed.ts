import { bySlot, type RedisClient } from '../../platform/redis.ts';
import type { Db } from '../../platform/db.ts';
import { HISTORY_KEEP, historyKey, roomChannel, toWire, visibleTo, type ChatEvent, type WireEvent } from './chatEvent.ts';
import { chatEventsOfOutbox, newestChatEvents } from './chatEventLog.ts';

/**
 * A room's live feed and short history in Redis (format in chatEvent.ts, shared with the ws server):
 * events are first written to chat_events in the job's transaction, then, after the commit,
 * pushed onto the history list and published on the room channel.
 */
export interface FeedDeps {
  redis: RedisClient;
  db: Db;
  prefix: string;
  /** How many events a history answer holds at most (20). */
  historySize: number;
  /** How far back a history answer reaches (10 minutes). */
  historyWindowMs: number;
}

// A quiet room's list lives a day after its last event, then is rebuilt from MySQL on demand.
const HISTORY_TTL_MS = 86_400_000;

// Pushes each event (ARGV[4] on) onto its room's list (KEYS[2k - 1]) and publishes it on the room's
// channel (KEYS[2k]), in order; ARGV[1..3]: how many to keep, the list's TTL, and PUBLISH or
// (Cluster, same slot as the list) SPUBLISH. Only onto an existing list: a list created by a push
// would hold one event and pass for a complete history. Publishing comes after the push, so a ws
// node that sees the message and then reads the list for replay finds it there. One script for a
// batch's events (per slot on a Cluster), not a command object, promise and reply per event.
const PUSH = `
for k = 4, #ARGV do
  local list, channel = KEYS[2 * (k - 3) - 1], KEYS[2 * (k - 3)]
  if redis.call('EXISTS', list) == 1 then
    redis.call('LPUSH', list, ARGV[k])
    redis.call('LTRIM', list, 0, tonumber(ARGV[1]) - 1)
    redis.call('PEXPIRE', list, ARGV[2])
  end
  redis.call(ARGV[3], channel, ARGV[k])
end
return #ARGV - 3`;

// Fills a missing list (newest first), unless someone else has filled it meanwhile.
const FILL = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/**
 * Room events a listener job returns: recorded in chat_events under its batch's key in the job's
 * transaction, pushed after the commit, and read back from there by a rerun whose push was lost
 * (the outbox runner's SendAfterCommit).
 */
export const roomEventsAfterCommit = {
  send: (deps: Pick<FeedDeps, 'redis' | 'prefix'>, events: readonly ChatEvent[]) => publishChatEvents(deps, events),
  filed: (deps: Pick<FeedDeps, 'db'>, key: string) => chatEventsOfOutbox(deps.db, key),
};

/** Pushes committed events onto their rooms' history and publishes them, in order. */
export async function publishChatEvents(deps: Pick<FeedDeps, 'redis' | 'prefix'>, events: readonly ChatEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { redis, prefix } = deps;
  const cluster = redis.isCluster;
  const publish = cluster ? 'SPUBLISH' : 'PUBLISH';
  // A room's events share its slot, so they stay in one script, in order.
  await Promise.all(
    bySlot(redis, events, (e) => historyKey(prefix, e.room, cluster)).map((group) =>
      redis.eval(
        PUSH,
        group.length * 2,
        ...group.flatMap((e) => [historyKey(prefix, e.room, cluster), roomChannel(prefix, e.room, cluster)]),
        HISTORY_KEEP,
        HISTORY_TTL_MS,
        publish,
        ...group.map((e) => JSON.stringify(e)),
      ),
    ),
  );
}

/**
 * The room's history list, newest first, rebuilt from chat_events when the key is missing (a Redis
 * wipe, an expired quiet room). For the ws server's `since` replay as well as for GET history.
 */
export async function roomHistory(deps: FeedDeps, room: string): Promise<ChatEvent[]> {
  const key = historyKey(deps.prefix, room, deps.redis.isCluster);
  const cached = await deps.redis.lrange(key, 0, HISTORY_KEEP - 1);
  if (cached.length > 0) return cached.map((raw) => JSON.parse(raw) as ChatEvent);

  const rows = await newestChatEvents(deps.db, room, HISTORY_KEEP);
  if (rows.length === 0) return [];
  await deps.redis.eval(FILL, 1, key, HISTORY_TTL_MS, ...rows.map((r) => JSON.stringify(r.event)));
  // An event committed after the read above whose push found no list yet is in MySQL but not in
  // the list: drop the list so the next reader rebuilds it, and answer from MySQL this time.
  const later = await newestChatEvents(deps.db, room, HISTORY_KEEP, rows[0]!.id);
  if (later.length === 0) return rows.map((r) => r.event);
  const listed = new Set((await deps.redis.lrange(key, 0, HISTORY_KEEP - 1)).map((raw) => (JSON.parse(raw) as ChatEvent).event_id));
  if (later.some((r) => !listed.has(r.event.event_id))) await deps.redis.del(key);
  return [...later, ...rows].slice(0, HISTORY_KEEP).map((r) => r.event);
}

/**
 * GET /chat/event/history: the last `historySize` events of the last `historyWindowMs` that the
 * viewer may see (private ones only for their audience), oldest first.
 */
export async function readHistory(deps: FeedDeps, room: string, viewer: string, now = Date.now()): Promise<WireEvent[]> {
  const since = now - deps.historyWindowMs;
  const seen = new Set<string>();
  const events = (await roomHistory(deps, room))
    .reverse()
    .filter((e) => {
      if (seen.has(e.event_id)) return false;
      seen.add(e.event_id);
      return Date.parse(e.at) >= since && visibleTo(e, viewer);
    });
  // Stable: events of the same millisecond keep the order they were pushed in.
  events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return events.slice(-deps.historySize).map(toWire);
}
