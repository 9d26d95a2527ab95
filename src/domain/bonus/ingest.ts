import { createHash } from 'node:crypto';
import { BadRequest, Conflict } from '../../platform/errors.ts';
import type { Db, Trx } from '../../platform/db.ts';
import { compileSchema } from '../../platform/validation.ts';
import { eventJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { AnyEnvelope, type Envelope, type EventDef } from '../../../queues/outbox/envelope.ts';
import { eventRegistry } from '../events/catalog.ts';

const MAX_TIME = Date.UTC(10_000, 0, 1);

/**
 * Validates an upstream envelope at the door: its shape, then the registry's document of its name
 * and version. Throws BadRequest with code bad_envelope, unknown_schema (name or version not among
 * `events`) or invalid_payload, naming the failing fields.
 */
export function checkEnvelope(events: readonly EventDef[], raw: unknown): { def: EventDef; envelope: Envelope } {
  const shape = compileSchema(AnyEnvelope);
  if (!shape(raw)) throw new BadRequest(`bad envelope: ${shape.errors().join('; ')}`, 'bad_envelope', { problems: shape.errors() });
  const producedAt = Date.parse(raw.produced_at);
  if (!(producedAt >= 0 && producedAt < MAX_TIME)) throw new BadRequest('bad envelope: produced_at must be between 1970 and 9999', 'bad_envelope');
  const named = events.filter((e) => e.name === raw.event_name);
  const def = named.find((e) => e.version === raw.event_version);
  if (!def) {
    const message = named.length === 0 ? `unknown event "${raw.event_name}"` : `unknown version ${raw.event_version} of ${raw.event_name}`;
    throw new BadRequest(message, 'unknown_schema', { known: [...new Set(events.map((e) => e.name))], versions: named.map((e) => e.version) });
  }
  const result = eventRegistry.validate(def.name, def.version, raw);
  // The registry's documents keep the seed's form; the payload's own schema adds its strictness.
  const payload = compileSchema(def.schema);
  const problems = result.valid ? (payload(raw.payload) ? [] : payload.errors().map((p) => `payload.${p}`)) : result.errors.map((e) => `${e.path}: ${e.message}`);
  if (problems.length > 0) {
    throw new BadRequest(`invalid ${def.name} v${def.version}: ${problems.join('; ')}`, 'invalid_payload', { problems, errors: result.errors });
  }
  return { def, envelope: raw as Envelope };
}

/** Stable across key order, so a resent event with reordered fields is still the same event. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function eventHash(envelope: Pick<Envelope, 'event_name' | 'event_version' | 'payload'>): string {
  return createHash('sha256').update(canonical([envelope.event_name, envelope.event_version, envelope.payload])).digest('hex');
}

/**
 * Records an upstream event once and writes one outbox row per listener, in the caller's
 * transaction. A repeat of the event id is a no-op ({duplicate: true}); the same id with another
 * name or payload is a Conflict (event_id_reused).
 */
export async function acceptEvent(trx: Trx, def: EventDef, envelope: Envelope, now: Date): Promise<{ duplicate: boolean }> {
  const hash = eventHash(envelope);
  const [result] = (await trx.raw(
    `INSERT IGNORE INTO processed_events (event_id, event_name, event_version, payload_hash, received_at)
     VALUES (?, ?, ?, ?, ?)`,
    [envelope.event_id, envelope.event_name, envelope.event_version, hash, now],
  )) as [{ affectedRows: number }];
  if (result.affectedRows === 0) {
    const [rows] = (await trx.raw('SELECT payload_hash FROM processed_events WHERE event_id = ?', [envelope.event_id])) as [{ payload_hash: string }[]];
    if (rows[0] && rows[0].payload_hash !== hash) {
      throw new Conflict(`event_id ${envelope.event_id} was already used for another event`, 'event_id_reused');
    }
    return { duplicate: true };
  }
  await writeOutbox(trx, eventJobs(def, envelope), now);
  return { duplicate: false };
}

/**
 * Forgets event ids older than `before`, in small batches (no long locks on a hot table). A resent
 * event older than that is applied again, which the actor tolerates: its listing is closed or
 * unchanged, and a link is idempotent.
 */
export async function pruneProcessedEvents(db: Db, before: Date, batch = 1000): Promise<number> {
  let total = 0;
  for (let n = -1; n !== 0; total += n) {
    n = await db('processed_events').where('received_at', '<', before).limit(batch).delete();
  }
  return total;
}
