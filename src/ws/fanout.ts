import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { outgoing, parseChatEvent } from './protocol.ts';
import type { Rooms } from './rooms.ts';
import type { WriteBatch } from './writeBatch.ts';

/**
 * Routes one pub/sub message to the room's local sockets: a public event to all of them, a
 * private one only to the sockets whose token sub is in its audience. The frame is serialized
 * once; metrics are counted once per event, not per socket.
 */
export function createFanout(rooms: Rooms, batch: WriteBatch, metrics: Metrics, log: Logger) {
  return (roomId: string, raw: string): void => {
    const room = rooms.get(roomId);
    if (!room) return;
    const event = parseChatEvent(raw);
    if (!event || event.room !== roomId) {
      log.warn({ room: roomId, raw: raw.slice(0, 200) }, 'ws: ignoring a malformed chat event');
      return;
    }
    if (!room.firstSight(event.event_id)) return;
    const out = outgoing(event);
    const audience = event.audience;
    let written = 0;
    for (const member of room.members) {
      if (audience !== null && !audience.includes(member.sub)) continue;
      if (member.deliver(out)) written++;
    }
    if (written === 0) return;
    batch.releaseIfOld();
    metrics.wsFrames.inc({ type: event.type }, written);
    const at = Date.parse(event.at);
    if (Number.isFinite(at)) metrics.wsFanoutLatency.observe(Math.max(0, Date.now() - at) / 1000);
  };
}
