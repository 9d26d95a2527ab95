import { randomUUID } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** A domain event as it travels: `{event_id, event_name, event_version, produced_at, payload}`. */
export interface Envelope<P = unknown> {
  event_id: string;
  event_name: string;
  event_version: number;
  produced_at: string;
  payload: P;
}

/** An event type: its name, version, payload schema and the queues of its listener jobs. */
export interface EventDef<S extends TSchema = TSchema> {
  name: string;
  version: number;
  schema: S;
  listeners: readonly string[];
  /**
   * For listeners that care about some events of this type only: publishing writes no row for a
   * listener this says no to (a job that would do nothing is not worth scheduling). Default: all.
   */
  wants?(queue: string, payload: Static<S>): boolean;
  description: string;
}

/** The listener queues an event with this payload goes to. */
export function listenersOf<S extends TSchema>(def: EventDef<S>, payload: Static<S>): string[] {
  return def.listeners.filter((queue) => def.wants?.(queue, payload) ?? true);
}

export function defineEvent<S extends TSchema>(def: EventDef<S>): EventDef<S> {
  return def;
}

export function makeEnvelope<S extends TSchema>(def: EventDef<S>, payload: Static<S>, now = new Date()): Envelope<Static<S>> {
  return {
    event_id: randomUUID(),
    event_name: def.name,
    event_version: def.version,
    produced_at: now.toISOString(),
    payload,
  };
}

/**
 * Any envelope, before its name and version say which payload schema applies: what POST /events
 * and bonus.ingest take from upstream and what the topic appender is given. `produced_at` is an
 * RFC 3339 date-time (docs/API.md; makeEnvelope writes toISOString()).
 */
export const AnyEnvelope = Type.Object(
  {
    event_id: Type.String({ minLength: 1, maxLength: 64 }),
    event_name: Type.String({ minLength: 1, maxLength: 128 }),
    event_version: Type.Integer({ minimum: 0 }),
    produced_at: Type.String({ format: 'date-time' }),
    payload: Type.Unknown(),
  },
  { additionalProperties: false },
);

/** The JSON Schema of an event's envelope, in the form the event-schema registry publishes. */
export function envelopeSchema<S extends TSchema>(def: EventDef<S>) {
  return Type.Object(
    {
      event_id: Type.String({ minLength: 1, maxLength: 64 }),
      event_name: Type.Literal(def.name),
      event_version: Type.Literal(def.version),
      produced_at: Type.String({ format: 'date-time' }),
      payload: def.schema,
    },
    { title: `${def.name}Envelope`, description: def.description, additionalProperties: false },
  );
}
