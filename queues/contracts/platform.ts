import { Type } from '@sinclair/typebox';
import { defineJob } from '../contract.ts';

export const platformContracts = {
  /** Deletes done outbox rows, expired idempotency keys and stale connection rows, so the hot tables stay small. */
  'platform.prune': defineJob({
    queue: 'platform.prune',
    description: 'Prune done outbox rows, old idempotency keys, stale connection rows and old consumed_events pairs',
    schema: Type.Object(
      {
        outbox_retention_ms: Type.Integer({ minimum: 0 }),
        idempotency_retention_ms: Type.Integer({ minimum: 0 }),
        // Optional: schedules written before it existed still validate (and keep connections).
        connection_retention_ms: Type.Optional(Type.Integer({ minimum: 0 })),
        // Optional likewise: an older schedule keeps every consumed_events row.
        consumed_retention_ms: Type.Optional(Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    version: 1,
    attempts: 3,
    backoff: { delayMs: 10_000, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency: 1,
    durable: false,
    keepCompleted: 50,
  }),
};
