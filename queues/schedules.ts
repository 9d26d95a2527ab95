import type { Config } from '../src/config.ts';
import { contracts } from './contracts/index.ts';
import { schedule, type Schedule } from './scheduler.ts';
import { loadBonusSettings } from '../src/domain/bonus/settings.ts';

/** Every periodic job, with its cron pattern from config. */
export function buildSchedules(config: Config): Schedule[] {
  return [
    schedule({
      id: 'platform.prune',
      contract: contracts['platform.prune'],
      pattern: config.prune.cron,
      payload: { outbox_retention_ms: config.outbox.retentionMs, idempotency_retention_ms: config.prune.idempotencyRetentionMs },
    }),
    schedule({
      id: 'bonus.recheck-links',
      contract: contracts['bonus.recheck-links'],
      pattern: loadBonusSettings(config.bonusConfigFile, config.bonus).recheckCron,
      payload: {},
    }),
    schedule({ id: 'bonus.prune-events', contract: contracts['bonus.prune-events'], pattern: '41 3 * * *', payload: {} }),
  ];
}
