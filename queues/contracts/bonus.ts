import { Type } from '@sinclair/typebox';
import { HOLD_QUEUE, HoldPayload } from '../../src/domain/bonus/actor.ts';
import { APPLY_QUEUE, BonusEnvelope } from '../../src/domain/bonus/events.ts';
import { DELIVER_POINTS_QUEUE, DeliverPointsPayload } from '../../src/domain/bonus/grant.ts';
import { AnyEnvelope } from '../outbox/envelope.ts';
import { attemptsWithin } from '../../src/platform/backoff.ts';
import { defineJob } from '../contract.ts';

const DAY = 86_400_000;
const deliveryBackoff = { delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 };

export const bonusContracts = {
  /**
   * Upstream events from producers that speak BullMQ: job data `{v: 1, payload: <envelope>}`.
   * Validated like POST /events; an invalid one fails at once with its reason (the failed set is
   * the dead-letter queue).
   */
  'bonus.ingest': defineJob({
    queue: 'bonus.ingest',
    description: 'Validate an upstream bonus event, record it once by event_id and fan it out to its listeners',
    schema: AnyEnvelope,
    version: 1,
    attempts: 10,
    backoff: { delayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency: 16,
    // The producer's job is the source; redelivery is harmless (deduplicated by event_id).
    durable: false,
    keepCompleted: 1000,
  }),
  /** Feeds one upstream event to its user's actor (the listener of every bonus event). */
  'bonus.apply-event': defineJob({
    queue: APPLY_QUEUE,
    description: "Apply a listing or account event to the user's bonus state machine",
    schema: BonusEnvelope,
    version: 1,
    attempts: 25,
    backoff: { delayMs: 500, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency: 16,
    durable: true,
    keepCompleted: 1000,
  }),
  /** The fraud hold's timer: a durable delayed job, re-added with its remaining delay after a Redis loss. */
  'bonus.hold-expired': defineJob({
    queue: HOLD_QUEUE,
    description: 'End a fraud hold: pay the bonus, or wait for a linked account',
    schema: HoldPayload,
    version: 1,
    attempts: 25,
    backoff: { delayMs: 500, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency: 8,
    durable: true,
    keepCompleted: 1000,
  }),
  /** Delivers a paid grant to points_url with an Idempotency-Key; retried for about a day. */
  'bonus.deliver-points': defineJob({
    queue: DELIVER_POINTS_QUEUE,
    description: 'POST a paid bonus to the points service',
    schema: DeliverPointsPayload,
    version: 1,
    attempts: attemptsWithin(deliveryBackoff, DAY),
    backoff: deliveryBackoff,
    concurrency: 8,
    durable: true,
    keepCompleted: 1000,
  }),
  /** The re-check cron: asks the accounts service about every user waiting for a link. */
  'bonus.recheck-links': defineJob({
    queue: 'bonus.recheck-links',
    description: 'Ask accounts_url about users waiting for a linked account; pay those now linked',
    schema: Type.Object({}, { additionalProperties: false }),
    version: 1,
    attempts: 5,
    backoff: { delayMs: 30_000, maxDelayMs: 300_000, jitter: 0.2 },
    concurrency: 1,
    durable: false,
    keepCompleted: 100,
  }),
  /** Daily: forgets event ids older than dedupe_for, so processed_events stays small. */
  'bonus.prune-events': defineJob({
    queue: 'bonus.prune-events',
    description: 'Delete processed_events rows older than the dedupe window',
    schema: Type.Object({}, { additionalProperties: false }),
    version: 1,
    attempts: 3,
    backoff: { delayMs: 10_000, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency: 1,
    durable: false,
    keepCompleted: 50,
  }),
};
