import type { Db } from '../../src/platform/db.ts';
import { selectRows } from '../../src/platform/sql.ts';

export interface EventRow {
  event_id: string;
  /** The outbox row carrying the event: its own, or an event batch row it shares. */
  id: number;
  status: string;
}

/** The outbox rows of `queue` that carry these events, one entry per event carried (so repeats show). */
export async function rowsOfEvents(db: Db, queue: string, eventIds: readonly string[]): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  const list = eventIds.map(() => '?').join(', ');
  const rows = await selectRows<EventRow>(
    db,
    `SELECT event_id, id, status FROM outbox WHERE queue = ? AND event_id IN (${list})
     UNION ALL
     SELECT j.event_id, o.id, o.status FROM outbox o, JSON_TABLE(o.payload, '$[*]' COLUMNS (event_id VARCHAR(64) PATH '$.event_id')) j
      WHERE o.queue = ? AND o.event_id IS NULL AND o.event_name IS NOT NULL AND j.event_id IN (${list})`,
    [queue, ...eventIds, queue, ...eventIds],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
