import type { Static, TSchema } from '@sinclair/typebox';
import type { Trx } from '../db.ts';
import { listenersOf, makeEnvelope, type Envelope, type EventDef } from './envelope.ts';

export interface OutboxJob {
  queue: string;
  payload: unknown;
  version: number;
  eventId?: string;
  /** Not before this time (a durable delayed job). */
  availableAt?: Date;
}

/**
 * Writes outbox rows in the caller's transaction, so the job exists exactly when the domain rows do.
 * The relay turns them into BullMQ jobs with jobId "ob-<id>".
 */
export async function writeOutbox(trx: Trx, jobs: OutboxJob[], now = new Date()): Promise<void> {
  if (jobs.length === 0) return;
  const rows = jobs.map((job) => ({
    queue: job.queue,
    job_name: job.queue,
    payload_version: job.version,
    payload: JSON.stringify(job.payload),
    event_id: job.eventId ?? null,
    status: 'pending',
    available_at: job.availableAt ?? now,
    created_at: now,
  }));
  await trx('outbox').insert(rows);
}

/** The outbox rows of one published event: one per listener it goes to, all carrying the envelope. */
export function eventJobs<S extends TSchema>(def: EventDef<S>, envelope: Envelope<Static<S>>): OutboxJob[] {
  return listenersOf(def, envelope.payload).map((queue) => ({ queue, payload: envelope, version: def.version, eventId: envelope.event_id }));
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
