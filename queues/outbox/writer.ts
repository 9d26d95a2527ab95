import type { Static, TSchema } from '@sinclair/typebox';
import type { Trx } from '../../src/platform/db.ts';
import { executeLarge, executeLater, placeholders } from '../../src/platform/sql.ts';
import { compileSchema } from '../../src/platform/validation.ts';
import { commonTrace, traceFields, traceOf, type Trace } from '../../src/platform/trace.ts';
import { listenersOf, makeEnvelope, type Envelope, type EventDef } from './envelope.ts';

export interface OutboxJob {
  queue: string;
  payload: unknown;
  version: number;
  eventId?: string;
  /** Not before this time (a durable delayed job). */
  availableAt?: Date;
  /** The payload is an event's envelope (eventJobs): its header is kept in columns (storedPayload). */
  envelope?: boolean;
  /** The payload is a list of envelopes of one event (eventBatchJobs): one row for them all. */
  events?: boolean;
  /** The request the row is for, when the transaction serves several (a group commit); default: the running one. */
  trace?: Trace | undefined;
  /**
   * With `events`: each event's request, in the payload's order (a group commit's events). The
   * row's columns hold the one they share, if any; an event whose request differs keeps its own.
   */
  traces?: readonly (Trace | undefined)[];
}

/** An outbox row's columns that make up its payload. */
export interface StoredPayload {
  payload: string;
  event_id: string | null;
  event_name: string | null;
  payload_version: number;
  created_at: Date;
  /** The request the row was written for (src/platform/trace.ts); null outside one. */
  request_id?: string | null;
  traceparent?: string | null;
}

/**
 * The columns storedPayload reads, and the trace a row's job carries, for SELECTs: a list for the
 * query builder, SQL for raw statements.
 */
export const PAYLOAD_COLUMNS = ['payload', 'event_id', 'event_name', 'payload_version', 'created_at', 'request_id', 'traceparent'] as const;
export const PAYLOAD_SQL = PAYLOAD_COLUMNS.join(', ');

/**
 * The payload a row was written with. An event's rows store the event's payload alone and its
 * envelope header in columns (event_id, event_name, payload_version, created_at = produced_at),
 * so the header is not repeated in every listener's row; the envelope is put back together here.
 */
export function storedPayload(row: StoredPayload): unknown {
  return storedRow(row).payload;
}

/**
 * A row's payload and the request of each payload in it: the row's columns, or for an event of a
 * batch row written for several requests, its own (eventBatchJobs' traces).
 */
export function storedRow(row: StoredPayload): { payload: unknown; traces: (Trace | undefined)[] } {
  const payload = JSON.parse(row.payload) as unknown;
  const rowTrace = traceOf(row);
  if (row.event_name === null) return { payload, traces: [rowTrace] };
  if (row.event_id !== null) return { payload: withHeader(row, row.event_id, payload), traces: [rowTrace] };
  // An event batch row (eventBatchJobs) names its event but no single event id: it stores a list
  // of events, each with its id and payload, or whole where its header differs from the columns.
  if (!Array.isArray(payload)) return { payload, traces: [rowTrace] };
  const events = payload as BatchedEvent[];
  return {
    payload: events.map(({ request_id: _r, traceparent: _t, ...e }) => ('event_name' in e ? e : withHeader(row, e.event_id, e.payload))),
    traces: events.map((e) => traceOf(e) ?? rowTrace),
  };
}

/**
 * An event of a batch row as stored: its id and payload, the header being the row's columns (or
 * the whole envelope where its header differs), and its request where it is not the row's.
 */
type BatchedEvent = (Envelope | { event_id: string; payload: unknown }) & { request_id?: string; traceparent?: string };

function withHeader(row: StoredPayload, eventId: string, payload: unknown): Envelope {
  return { event_id: eventId, event_name: row.event_name!, event_version: row.payload_version, produced_at: row.created_at.toISOString(), payload };
}

/** A batch row's events, each kept whole only where its header is not the row's, with its request where it is not the row's. */
function slimBatch(envelopes: readonly Envelope[], header: { name: string; version: number; producedAt: string; trace: Trace | undefined }, traces?: readonly (Trace | undefined)[]): BatchedEvent[] {
  return envelopes.map((e, i) => {
    const stored: BatchedEvent = e.event_name === header.name && e.event_version === header.version && e.produced_at === header.producedAt ? { event_id: e.event_id, payload: e.payload } : e;
    const trace = traces?.[i];
    return trace && trace.request_id !== header.trace?.request_id ? { ...stored, ...traceFields(trace) } : stored;
  });
}

/** An envelope whose header the columns hold exactly (a produced_at in another form keeps it whole). */
function slimmable(job: OutboxJob): { envelope: Envelope; producedAt: Date } | null {
  if (!job.envelope) return null;
  const envelope = job.payload as Envelope;
  const producedAt = new Date(envelope.produced_at);
  if (Number.isNaN(producedAt.getTime()) || producedAt.toISOString() !== envelope.produced_at) return null;
  if (envelope.event_version !== job.version || envelope.event_id !== job.eventId) return null;
  return { envelope, producedAt };
}

/**
 * What one transaction wrote to the outbox, kept by the transaction wrapper that opened it
 * (Outbox.transaction), which hands it on after the commit. `claimsOwnRows` comes from the contract
 * map the wrapper was built with: a batched queue's rows due now skip the relay (written `relayed`,
 * the commit wakes the queue and its wake job claims them), sparing each row the relay's read,
 * lock and update. A transaction no wrapper opened writes every row `pending`: the relay's poll
 * finds them, later but never lost.
 */
export interface OutboxWrites {
  /** Batched queues that got rows due now: the commit must wake them. */
  wake: Set<string>;
  /** Rows were left for the relay. */
  pending: boolean;
  /** The request the transaction writes for: its rows carry it, unless a job names its own. */
  trace: Trace | undefined;
}

interface Recorder extends OutboxWrites {
  claimsOwnRows: (queue: string) => boolean;
}

const recorders = new WeakMap<Trx, Recorder>();

/** Starts recording what `trx` writes to the outbox (Outbox.transaction); returns the record it fills. */
export function recordOutboxWrites(trx: Trx, claimsOwnRows: (queue: string) => boolean, trace: Trace | undefined): OutboxWrites {
  const recorder: Recorder = { claimsOwnRows, wake: new Set(), pending: false, trace };
  recorders.set(trx, recorder);
  return recorder;
}

/**
 * The rows `trx` writes from now on are for `trace`'s request: a batch runner learns which
 * request its batch serves (commonTrace) only once it has claimed the rows, inside the transaction.
 */
export function writeFor(trx: Trx, trace: Trace | undefined): void {
  const recorder = recorders.get(trx);
  if (recorder) recorder.trace = trace;
}

/**
 * Writes outbox rows in the caller's transaction, so the job exists exactly when the domain rows do.
 * The relay turns pending rows into BullMQ jobs with jobId "ob-<id>"; a batched queue's rows wait
 * for its wake job (OutboxWrites).
 */
export async function writeOutbox(trx: Trx, jobs: OutboxJob[], now = new Date()): Promise<void> {
  if (jobs.length === 0) return;
  const written = recorders.get(trx);
  const relayedAt = new Date(); // wall time, as the relay and the reconciler's grace use
  // The request (or the job of a request) this transaction runs for: two more values per row.
  const trace = written?.trace;
  const rows = jobs.map((job) => {
    const rowTrace = job.traces ? commonTrace(job.traces) : 'trace' in job ? job.trace : trace;
    const availableAt = job.availableAt ?? now;
    const claimed = (written?.claimsOwnRows(job.queue) ?? false) && availableAt <= now;
    if (job.events && written && !written.claimsOwnRows(job.queue)) throw new Error(`an event batch row for ${job.queue}, which takes its rows one at a time`);
    if (claimed) written!.wake.add(job.queue);
    else if (written) written.pending = true;
    const slim = slimmable(job);
    const batchOf = job.events ? (job.payload as Envelope[])[0]!.event_name : null;
    const stored = slim ? slim.envelope.payload : batchOf ? slimBatch(job.payload as Envelope[], { name: batchOf, version: job.version, producedAt: now.toISOString(), trace: rowTrace }, job.traces) : job.payload;
    return {
      queue: job.queue,
      job_name: job.queue,
      payload_version: job.version,
      payload: JSON.stringify(stored),
      event_id: batchOf ? null : (job.eventId ?? null),
      event_name: slim ? slim.envelope.event_name : batchOf,
      status: claimed ? 'relayed' : 'pending',
      available_at: availableAt,
      created_at: slim ? slim.producedAt : now,
      relayed_at: claimed ? relayedAt : null,
      request_id: rowTrace?.request_id ?? null,
      traceparent: rowTrace?.traceparent ?? null,
    };
  });
  // Plain SQL, not the query builder: its insert compiler costs more than the statement itself
  // for the hundreds of rows a batch transaction writes.
  const columns = Object.keys(rows[0]!) as (keyof (typeof rows)[number])[];
  const row = `(${placeholders(columns.length)})`;
  const sql = `INSERT INTO outbox (${columns.join(', ')}) VALUES ${new Array<string>(rows.length).fill(row).join(', ')}`;
  const values = rows.flatMap((r) => columns.map((c) => r[c]));
  // A few rows carrying event batches (a payout batch's, a transfer batch's): prepared, so the
  // payloads are neither escaped nor parsed. Few rows keep the statement texts few.
  if (rows.length <= LARGE_MAX_ROWS && rows.reduce((n, r) => n + r.payload.length, 0) >= LARGE_PAYLOAD) await executeLarge(trx, sql, values);
  else await executeLater(trx, sql, values);
}

/** Payload characters from which a write of at most LARGE_MAX_ROWS rows goes as a prepared statement. */
const LARGE_PAYLOAD = 16_384;
const LARGE_MAX_ROWS = 8;

let validateEmitted = true;

/** EVENT_VALIDATION: producers check what they emit (switched off only to measure its cost). */
export function setEventValidation(on: boolean): void {
  validateEmitted = on;
}

/** A producer's bug, not bad input: an event that fails its own schema is never written. */
function checkEmitted(def: EventDef, payload: unknown): void {
  const check = compileSchema(def.schema);
  if (!check(payload)) throw new Error(`refusing to emit an invalid ${def.name} v${def.version}: ${check.errors().join('; ')}`);
}

/**
 * The outbox rows of one published event: one per listener it goes to, all carrying the envelope.
 * Every producer writes its events through here, so here the payload is checked against its schema.
 */
export function eventJobs<S extends TSchema>(def: EventDef<S>, envelope: Envelope<Static<S>>): OutboxJob[] {
  if (validateEmitted) checkEmitted(def, envelope.payload);
  return listenersOf(def, envelope.payload).map((queue) => ({ queue, payload: envelope, version: def.version, eventId: envelope.event_id, envelope: true }));
}

/**
 * The outbox rows of many events of one type published in one transaction: one row per listener
 * carrying every envelope that goes to it, in order, instead of a row per event and listener. The
 * listener's job takes the row's events as one batch and marks the row done once (runner.ts), so
 * a batch of N events costs each listener one row insert and one done mark instead of N of each.
 * `batchRowsFor`: only these listeners get a batch row; the others a row per event, as eventJobs
 * writes (a row-at-a-time listener). Default: all. `traces`: each envelope's request, when they
 * come from several (a group commit); default: the running one.
 */
export function eventBatchJobs<S extends TSchema>(
  def: EventDef<S>,
  envelopes: readonly Envelope<Static<S>>[],
  opts: { batchRowsFor?: readonly string[]; traces?: readonly (Trace | undefined)[] } = {},
): OutboxJob[] {
  const { batchRowsFor, traces } = opts;
  const byQueue = new Map<string, { envelopes: Envelope<Static<S>>[]; traces: (Trace | undefined)[] }>();
  const single: OutboxJob[] = [];
  for (const [i, envelope] of envelopes.entries()) {
    if (validateEmitted) checkEmitted(def, envelope.payload);
    for (const queue of listenersOf(def, envelope.payload)) {
      if (batchRowsFor && !batchRowsFor.includes(queue)) {
        single.push({ queue, payload: envelope, version: def.version, eventId: envelope.event_id, envelope: true, ...(traces ? { trace: traces[i] } : {}) });
        continue;
      }
      const list = byQueue.get(queue) ?? { envelopes: [], traces: [] };
      byQueue.set(queue, list);
      list.envelopes.push(envelope);
      list.traces.push(traces?.[i]);
    }
  }
  const batches = [...byQueue].map(([queue, list]): OutboxJob => ({ queue, payload: list.envelopes, version: def.version, events: true, ...(traces ? { traces: list.traces } : {}) }));
  return [...single, ...batches];
}

/** The payloads a row stands for: its one payload, or each envelope of an event batch row. */
export function payloadsOf(payload: unknown, row?: Pick<StoredPayload, 'event_name' | 'event_id'>): unknown[] {
  const batch = row ? row.event_name !== null && row.event_id === null && Array.isArray(payload) : Array.isArray(payload);
  return batch ? (payload as unknown[]) : [payload];
}

/** Publishes a domain event: one outbox row per listener, all carrying the same envelope. */
export async function publishEvent<S extends TSchema>(
  trx: Trx,
  def: EventDef<S>,
  payload: Static<S>,
  now = new Date(),
): Promise<Envelope<Static<S>>> {
  const envelope = makeEnvelope(def, payload, now);
  await writeOutbox(trx, eventJobs(def, envelope), now);
  return envelope;
}
