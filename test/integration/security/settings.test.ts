import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { cronProblem } from '../../../src/platform/cron.ts';
import { moduleFileProblems } from '../../../src/moduleSettings.ts';
import { runCli, STACK_LINE } from './cli.ts';

// Nothing here reaches a database: every run must stop at the settings check, before connecting.
const UNREACHABLE = { DATABASE_URL: 'mysql://root@127.0.0.1:1/never', REDIS_URL: 'redis://127.0.0.1:1' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { check: moduleFileProblems });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('security: every setting is checked at start, all problems listed, no stack trace', function () {
  this.timeout(120_000);

  it('the real CLI refuses bad settings with exit 1, naming every one, without a stack trace', async () => {
    const run = await runCli(['start'], {
      ...UNREACHABLE,
      LOG_LEVEL: 'loud',
      PRUNE_CRON: '99 * * * *',
      TZ: 'Mars/Olympus_Mons',
      BONUS_RECHECK_CRON: '0 0 31 2 *',
      OUTBOX_POLL: '0ms',
      WS_HEARTBEAT: '30d',
      METRICS_CACHE: 'soon',
      DEV_TOKENS: 'yes',
      PORT: '99999',
    });
    expect(run.code, run.stderr).to.equal(1);
    for (const name of ['LOG_LEVEL', 'PRUNE_CRON', 'TZ', 'BONUS_RECHECK_CRON', 'OUTBOX_POLL', 'WS_HEARTBEAT', 'METRICS_CACHE', 'DEV_TOKENS', 'PORT']) {
      expect(run.stderr, name).to.include(`- ${name}`);
    }
    expect(run.stderr).to.match(/PRUNE_CRON: "99 \* \* \* \*" is not a valid cron pattern/);
    expect(run.stderr).not.to.match(STACK_LINE);
    expect(run.stdout).to.equal('');
  });

  it('the real CLI reports a broken module config file the same way, with the bad settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-settings-'));
    const bonus = join(dir, 'bonus.json');
    writeFileSync(bonus, JSON.stringify({ recheck_cron: '61 * * * *' }));
    const integrations = join(dir, 'integrations.json');
    writeFileSync(integrations, '{ not json');
    const run = await runCli(['start'], { ...UNREACHABLE, BONUS_CONFIG_FILE: bonus, INTEGRATIONS_FILE: integrations, LOG_LEVEL: 'chatty' });
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.match(/- BONUS_CONFIG_FILE: bonus config: recheck_cron "61 \* \* \* \*" is not a valid cron pattern/);
    expect(run.stderr).to.match(/- INTEGRATIONS_FILE: integrations file .* is not JSON/);
    expect(run.stderr).to.include('- LOG_LEVEL');
    expect(run.stderr).not.to.match(STACK_LINE);
    const missing = await runCli(['migrate'], { ...UNREACHABLE, BONUS_CONFIG_FILE: join(dir, 'absent.json') });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/- BONUS_CONFIG_FILE: cannot read bonus config file/);
    expect(missing.stderr).not.to.match(STACK_LINE);
  });

  it('NODE_ENV takes only development, test and production', () => {
    for (const mode of ['development', 'test', 'production']) {
      expect(problemsOf({ NODE_ENV: mode, JWT_SECRET: 'p'.repeat(40), ADMIN_USER: 'ops', ADMIN_PASSWORD: 'twelve-chars', WS_ORIGINS: 'https://chat.example' }), mode).to.deep.equal([]);
    }
    for (const typo of ['prod', 'Production', 'staging', 'dev']) {
      expect(problemsOf({ NODE_ENV: typo }).join('\n'), typo).to.match(/NODE_ENV must be one of development, test, production/);
    }
  });

  it('production wants a 12-character admin password and a 32-character JWT secret', () => {
    const base = { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40), ADMIN_USER: 'ops', WS_ORIGINS: 'https://chat.example' };
    expect(problemsOf({ ...base, ADMIN_PASSWORD: 'eleven-char' })).to.deep.equal(['ADMIN_PASSWORD must be at least 12 characters in production']);
    expect(problemsOf({ ...base, ADMIN_PASSWORD: 'twelve-chars' })).to.deep.equal([]);
    expect(problemsOf({ ...base, JWT_SECRET: 'short', ADMIN_PASSWORD: 'twelve-chars' }).join()).to.match(/JWT_SECRET must be at least 32/);
    expect(problemsOf({ ...base, JWT_SECRET: '', ADMIN_PASSWORD: 'twelve-chars' }).join()).to.match(/JWT_SECRET is required/);
    // Development keeps working on the short defaults, with warnings.
    expect(problemsOf({ NODE_ENV: 'development', ADMIN_PASSWORD: 'short' })).to.deep.equal([]);
  });

  it('cron patterns: five fields or six with leading seconds, checked by the parser BullMQ uses', () => {
    for (const ok of ['17 * * * *', '*/2 * * * * *', '59 23 * * *', '0 9 * * 1-5', '0 0 1 * *']) expect(cronProblem(ok), ok).to.equal(null);
    for (const bad of ['99 * * * *', '* * *', '', '@daily', 'a b c d e', '* * * * * * *', '0 0 31 2 *', '*/0 * * * *']) {
      expect(cronProblem(bad), bad).to.be.a('string');
    }
    expect(loadConfig({ PRUNE_CRON: '*/30 * * * * *', TZ: 'Europe/Moscow' }).prune.cron).to.equal('*/30 * * * * *');
  });

  it('TZ must be a real zone, LOG_LEVEL a pino level, METRICS_TOKEN long enough', () => {
    expect(loadConfig({ TZ: 'America/New_York', LOG_LEVEL: 'debug' })).to.include({ tz: 'America/New_York', logLevel: 'debug' });
    expect(problemsOf({ TZ: 'Europe/Atlantis' }).join()).to.match(/^TZ must be a time zone/);
    expect(problemsOf({ LOG_LEVEL: 'verbose' }).join()).to.match(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(problemsOf({ METRICS_TOKEN: 'short' }).join()).to.match(/METRICS_TOKEN must be at least 16/);
    expect(problemsOf({ METRICS_CACHE: '2m' }).join()).to.match(/METRICS_CACHE must be at most 60s/);
  });
});
