import type { TSchema } from '@sinclair/typebox';
import type { EventDef } from '../../../queues/outbox/envelope.ts';
import { compileJsonSchema, type JsonCheck } from '../../platform/validation.ts';
import { TOPIC_APPEND_QUEUE } from './topics.ts';

/** Turns a payload of version v into one of version v + 1 (pure: no I/O, no clock). */
export type Upcaster = (payload: never) => unknown;

/**
 * One event as the registry knows it: every published version (ascending, no gaps), its topic,
 * and an upcaster from each version to the next, so a consumer's handler sees the newest only.
 */
export interface RegisteredEvent {
  name: string;
  topic: string;
  versions: readonly EventDef[];
  /** upcasters[v] turns a version-v payload into a version-(v + 1) one; every version but the newest has one. */
  upcasters: Readonly<Record<number, Upcaster>>;
  /** Other services may post it to POST /events (checked at the door). */
  fromOutside?: boolean;
  /**
   * The listener queue that appends it to its topic's stream inside its own batch transaction
   * (topicAppend.ts), sparing a busy event an outbox row of its own; unset, the event must list
   * events.topic-append among its listeners.
   */
  appendedBy?: string;
}

export interface SchemaError {
  path: string;
  message: string;
}

export type Validation = { valid: true; errors: [] } | { valid: false; errors: SchemaError[] };

export class UnknownSchema extends Error {
  constructor(readonly eventName: string, readonly version: number | undefined) {
    super(version === undefined ? `unknown event "${eventName}"` : `unknown schema ${eventName} v${version}`);
    this.name = 'UnknownSchema';
  }
}

/** A JSON value with keys sorted at every level: the committed documents are stable byte for byte. */
export function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortedJson(v);
    }
    return out;
  }
  return value;
}

/** A TypeBox schema as plain JSON (its symbol keys dropped). */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * The published document of one version, in seed 001's envelope form: the payload under
 * `$defs.<Name>`, `const` name and version, `payload: {$ref}`, the five envelope fields required.
 */
export function envelopeDocument(def: EventDef): Record<string, unknown> {
  const payload = plain(def.schema);
  return sortedJson({
    $defs: { [def.name]: { ...payload, title: payload.title ?? def.name } },
    description: def.description,
    properties: {
      event_id: { title: 'Event Id', type: 'string' },
      event_version: { const: def.version, title: 'Event Version', type: 'integer' },
      event_name: { const: def.name, title: 'Event Name', type: 'string' },
      produced_at: { title: 'Produced At', type: 'string' },
      payload: { $ref: `#/$defs/${def.name}` },
    },
    required: ['event_id', 'event_version', 'event_name', 'produced_at', 'payload'],
    title: `${def.name}Envelope`,
    type: 'object',
  }) as Record<string, unknown>;
}

/** Builds a registered event, refusing gaps in its versions and a version without its upcaster. */
export function registerEvent(event: RegisteredEvent): RegisteredEvent {
  const { name, versions } = event;
  if (versions.length === 0) throw new Error(`event ${name} has no versions`);
  versions.forEach((def, i) => {
    if (def.name !== name) throw new Error(`event ${name} lists a version of ${def.name}`);
    if (i > 0 && def.version !== versions[i - 1]!.version + 1) throw new Error(`event ${name}: versions must ascend without gaps`);
  });
  for (const def of versions.slice(0, -1)) {
    if (typeof event.upcasters[def.version] !== 'function') throw new Error(`event ${name} v${def.version} has no upcaster to v${def.version + 1}`);
  }
  for (const def of versions) {
    // Every version reaches the topic: through its carrier or through a topic-append row.
    if (event.appendedBy !== undefined ? !def.listeners.includes(event.appendedBy) : !def.listeners.includes(TOPIC_APPEND_QUEUE) && def.listeners.length > 0) {
      throw new Error(`event ${name} v${def.version} never reaches topic ${event.topic}: list ${event.appendedBy ?? TOPIC_APPEND_QUEUE} among its listeners`);
    }
  }
  return event;
}

/**
 * Every event Conveyor produces or consumes, by name and version. Each version's validator is
 * compiled once, on its first use (a process compiles only what it checks, and starts sooner).
 */
export class EventRegistry {
  private readonly byName = new Map<string, RegisteredEvent>();
  private readonly documents = new Map<string, Record<string, unknown>>();
  private readonly checks = new Map<string, JsonCheck>();

  constructor(events: readonly RegisteredEvent[]) {
    for (const event of events) {
      registerEvent(event);
      if (this.byName.has(event.name)) throw new Error(`event ${event.name} is registered twice`);
      this.byName.set(event.name, event);
      for (const def of event.versions) {
        this.documents.set(key(event.name, def.version), envelopeDocument(def));
      }
    }
  }

  list(): readonly RegisteredEvent[] {
    return [...this.byName.values()];
  }

  event(name: string): RegisteredEvent | undefined {
    return this.byName.get(name);
  }

  /** The definition of one version; throws UnknownSchema. */
  def(name: string, version: number): EventDef {
    const def = this.byName.get(name)?.versions.find((d) => d.version === version);
    if (!def) throw new UnknownSchema(name, version);
    return def;
  }

  newest(name: string): EventDef {
    const event = this.byName.get(name);
    if (!event) throw new UnknownSchema(name, undefined);
    return event.versions.at(-1)!;
  }

  document(name: string, version: number): Record<string, unknown> {
    const doc = this.documents.get(key(name, version));
    if (!doc) throw new UnknownSchema(name, version);
    return doc;
  }

  /** Checks an envelope against the document of its own name and version; throws UnknownSchema. */
  validate(name: string, version: number, envelope: unknown): Validation {
    const k = key(name, version);
    let check = this.checks.get(k);
    if (!check) {
      const doc = this.documents.get(k);
      if (!doc) throw new UnknownSchema(name, version);
      this.checks.set(k, (check = compileJsonSchema(doc)));
    }
    return check(envelope) ? { valid: true, errors: [] } : { valid: false, errors: check.errors() };
  }

  /** A payload of `version` carried up to the newest version of its event, one upcaster at a time. */
  upcast(name: string, version: number, payload: unknown): { version: number; payload: unknown } {
    const event = this.byName.get(name);
    if (!event) throw new UnknownSchema(name, version);
    const newest = event.versions.at(-1)!.version;
    if (version < event.versions[0]!.version || version > newest) throw new UnknownSchema(name, version);
    let current = payload;
    for (let v = version; v < newest; v++) current = (event.upcasters[v] as (p: unknown) => unknown)(current);
    return { version: newest, payload: current };
  }
}

function key(name: string, version: number): string {
  return `${name}@${version}`;
}
