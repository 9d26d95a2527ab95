import type { Config } from '../src/config.ts';
import { contracts } from './contracts/index.ts';
import { schedule, type Schedule } from './scheduler.ts';
import { loadBonusSettings } from '../src/domain/bonus/settings.ts';

const DAY = 86_400_000;

/** Every periodic job, with its cron pattern from config. */
export function buildSchedules(config: Config): Schedule[] {
  return [
    schedule({
      id: 'platform.prune',
      contract: contracts['platform.prune'],
      pattern: '17 * * * *',
      payload: { outbox_retention_ms: 7 * DAY, idempotency_retention_ms: DAY },
    }),
    schedule({
      id: 'bonus.recheck-links',
      contract: contracts['bonus.recheck-links'],
      pattern: loadBonusSettings(config.bonusConfigFile, config.bonus).recheckCron,
      payload: {},
    }),
  ];
}
