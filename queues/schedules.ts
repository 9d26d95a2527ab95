import type { Services } from '../src/services.ts';
import { contracts } from './contracts/index.ts';
import { schedule, type Schedule } from './scheduler.ts';

/** Every periodic job, with its cron pattern from the settings the services were built with. */
export function buildSchedules({ config, bonus, popug }: Pick<Services, 'config' | 'bonus' | 'popug'>): Schedule[] {
  return [
    schedule({
      id: 'platform.prune',
      contract: contracts['platform.prune'],
      pattern: config.prune.cron,
      payload: {
        outbox_retention_ms: config.outbox.retentionMs,
        idempotency_retention_ms: config.prune.idempotencyRetentionMs,
        connection_retention_ms: config.prune.connectionRetentionMs,
        consumed_retention_ms: config.prune.consumedRetentionMs,
      },
    }),
    schedule({
      id: 'bonus.recheck-links',
      contract: contracts['bonus.recheck-links'],
      pattern: bonus.recheckCron,
      payload: {},
    }),
    schedule({ id: 'popug.payout-cron', contract: contracts['popug.payout-cron'], pattern: popug.payoutCron, payload: {} }),
    schedule({ id: 'bonus.prune-events', contract: contracts['bonus.prune-events'], pattern: '41 3 * * *', payload: {} }),
  ];
}
