import type { Trx } from '../../platform/db.ts';
import { executeLater, selectRows, type Conn } from '../../platform/sql.ts';
import type { ChatEvent, ChatEventType } from './chatEvent.ts';

/**
 * chat_events: every event a room shows, in one table (the seed's "unify all events in one table").
 * It is the source of truth the Redis history list is rebuilt from.
 */

export function chatEvent(type: ChatEventType, eventId: string, room: string, at: string | Date, data: Record<string, unknown>, audience: string[] | null): ChatEvent {
  return { type, event_id: eventId, room, at: typeof at === 'string' ? at : at.toISOString(), data, audience: audience ? [...new Set(audience)] : null };
}

/** Writes the events in the caller's transaction; outboxId ties them to the job that wrote them. */
export async function recordChatEvents(trx: Trx, events: readonly ChatEvent[], outboxId: string | null): Promise<void> {
  if (events.length === 0) return;
  await executeLater(
    trx,
    `INSERT INTO chat_events (event_id, room, type, at, data, audience, outbox_id) VALUES ${events.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    events.flatMap((e) => [e.event_id, e.room, e.type, new Date(e.at), JSON.stringify(e.data), e.audience ? JSON.stringify(e.audience) : null, outboxId]),
  );
}

interface Row {
  id: number;
  event_id: string;
  room: string;
  type: ChatEventType;
  at: Date;
  data: string;
  audience: string | null;
}

function toEvent(row: Row): ChatEvent {
  return {
    type: row.type,
    event_id: row.event_id,
    room: row.room,
    at: row.at.toISOString(),
    data: JSON.parse(row.data) as Record<string, unknown>,
    audience: row.audience ? (JSON.parse(row.audience) as string[]) : null,
  };
}

const COLUMNS = 'id, event_id, room, type, at, data, audience';

/** The events a job wrote, to publish them again when the job is delivered a second time. */
export async function chatEventsOfOutbox(conn: Conn, outboxId: string): Promise<ChatEvent[]> {
  const rows = await selectRows<Row>(conn, `SELECT ${COLUMNS} FROM chat_events WHERE outbox_id = ? ORDER BY id`, [outboxId]);
  return rows.map(toEvent);
}

/** The room's newest events, newest first, with their row ids. */
export async function newestChatEvents(conn: Conn, room: string, limit: number, afterId = 0): Promise<{ id: number; event: ChatEvent }[]> {
  const rows = await selectRows<Row>(
    conn,
    `SELECT ${COLUMNS} FROM chat_events WHERE room = ? AND id > ? ORDER BY id DESC LIMIT ?`,
    [room, afterId, limit],
  );
  return rows.map((row) => ({ id: Number(row.id), event: toEvent(row) }));
}
