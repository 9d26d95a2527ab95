import type { Config } from './config.ts';
import { loadBonusSettings } from './domain/bonus/settings.ts';
import { loadIntegrations } from './domain/notify/integrations.ts';

/**
 * What is wrong with the module config files the settings name, one line per file, so a bad file
 * is reported with the bad variables before anything connects, instead of as a stack trace
 * from deep in start-up.
 */
export function moduleFileProblems(config: Config): string[] {
  const problems: string[] = [];
  const check = (variable: string, load: () => unknown) => {
    try {
      load();
    } catch (err) {
      problems.push(`${variable}: ${(err as Error).message}`);
    }
  };
  check('INTEGRATIONS_FILE', () => loadIntegrations(config.integrationsFile));
  check('BONUS_CONFIG_FILE', () => loadBonusSettings(config.bonusConfigFile, config.bonus));
  return problems;
}
