import { SEND_QUEUE, SendPayload } from '../../src/domain/notifications/inbox.ts';
import { attemptsWithin } from '../../src/platform/backoff.ts';
import { defineJob } from '../contract.ts';

const backoff = { delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 };

export const notificationsContracts = {
  /**
   * Delivers one stored notification on one channel (push, mail webhook). Any module that writes
   * a notification with createNotification gets this job; retried for about a day.
   */
  'notifications.send': defineJob({
    queue: SEND_QUEUE,
    description: 'Deliver an inbox notification through one channel (push or mail webhook)',
    schema: SendPayload,
    version: 1,
    attempts: attemptsWithin(backoff, 86_400_000),
    backoff,
    concurrency: 16,
    durable: true,
    keepCompleted: 1000,
  }),
};
