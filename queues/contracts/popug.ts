import { Type } from '@sinclair/typebox';
import { AccountEnvelope, PaymentMadeEnvelope, PaymentsEnvelope, PAYMENTS_APPLY_QUEUE, REPORTS_QUEUE, SEND_REPORT_QUEUE, TRACKER_ACCOUNTS_QUEUE, Uuid } from '../../src/domain/popug/events.ts';
import { PAYOUT_RUN_QUEUE } from '../../src/domain/popug/payout.ts';
import { RESHUFFLE_QUEUE } from '../../src/domain/popug/reshuffle.ts';
import { defineJob } from '../contract.ts';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const retry = { delayMs: 500, maxDelayMs: 60_000, jitter: 0.2 };

export const popugContracts = {
  /** The tracker's copy of users, from AccountCreated / AccountRoleChanged. */
  'popug.tracker-accounts': defineJob({
    queue: TRACKER_ACCOUNTS_QUEUE,
    description: "Keep the tracker's copy of a popug user (role decides who may be assigned)",
    schema: AccountEnvelope,
    version: 1,
    attempts: 25,
    backoff: retry,
    concurrency: 8,
    durable: true,
    keepCompleted: 1000,
  }),
  /** Payments' consumer: user copy, prices, fees, rewards; idempotent by entry id. */
  'popug.payments-apply': defineJob({
    queue: PAYMENTS_APPLY_QUEUE,
    description: 'Price a task once, debit the assignment fee or credit the reward (ledger transfer + audit entry)',
    schema: PaymentsEnvelope,
    // The newest event version it takes (TaskCreated v2); older ones are upcast.
    version: 2,
    attempts: 25,
    backoff: retry,
    // A job takes the queue's waiting events along (batched): one batch at a time per process,
    // which grows under load, rather than many jobs queueing on the company account's lock.
    concurrency: 1,
    durable: true,
    batched: true,
    keepCompleted: 1000,
  }),
  /** One reshuffle, batch by batch; progress in Bull Board; resumes after a crash. */
  'popug.reshuffle': defineJob({
    queue: RESHUFFLE_QUEUE,
    description: 'Reassign every open task to a random employee, in batches',
    schema: Type.Object({ reshuffle_id: Uuid }, { additionalProperties: false }),
    version: 1,
    attempts: 25,
    backoff: retry,
    concurrency: 1,
    durable: true,
    keepCompleted: 100,
  }),
  /** Closes a day and pays it (and any earlier closed day not yet paid); resumes after a crash. */
  'popug.payout-run': defineJob({
    queue: PAYOUT_RUN_QUEUE,
    description: "Close a payout day and pay every positive balance once (resumable)",
    schema: Type.Object({ day: Day }, { additionalProperties: false }),
    version: 1,
    attempts: 50,
    backoff: { delayMs: 1000, maxDelayMs: 300_000, jitter: 0.2 },
    concurrency: 1,
    durable: true,
    keepCompleted: 100,
  }),
  /** The payout_cron schedule: queues a durable run for today (in TZ). */
  'popug.payout-cron': defineJob({
    queue: 'popug.payout-cron',
    description: "payout_cron fired: queue today's payout run",
    schema: Type.Object({}, { additionalProperties: false }),
    version: 1,
    attempts: 5,
    backoff: { delayMs: 5000, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency: 1,
    durable: false,
    keepCompleted: 100,
  }),
  /** PaymentMade, a payout batch at a time: the inbox reports, and a mail job queued per payout. */
  'popug.reports': defineJob({
    queue: REPORTS_QUEUE,
    description: 'Store the inbox report of each payout and queue its mail',
    schema: PaymentMadeEnvelope,
    version: 1,
    attempts: 25,
    backoff: retry,
    concurrency: 1,
    durable: true,
    batched: true,
    keepCompleted: 1000,
  }),
  /**
   * The report mail of one payout. Tried mail_attempts times (the processor gives up then, into the
   * failed set); the contract allows the most the settings do. Not an outbox job: its row in
   * popug_report_mails is, and a payout run queues again a mail whose job Redis lost.
   */
  'popug.send-report': defineJob({
    queue: SEND_REPORT_QUEUE,
    description: 'Mail an employee the report of a payout (SMTP)',
    schema: Type.Object({ entry_id: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false }),
    version: 1,
    attempts: 100,
    backoff: { delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 },
    concurrency: 4,
    durable: false,
    keepCompleted: 1000,
  }),
};
