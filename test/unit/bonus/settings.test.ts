import { expect } from 'chai';
import { loadConfig } from '../../../src/config.ts';
import { loadBonusSettings, parseBonusSettings } from '../../../src/domain/bonus/settings.ts';

describe('bonus settings (BONUS_CONFIG_FILE and BONUS_* overrides)', () => {
  it('config/bonus.json holds the API.md defaults', () => {
    const s = loadBonusSettings('config/bonus.json');
    expect(s).to.deep.include({ pointsMinor: 10_000, cooldownMs: 30 * 86_400_000, holdMs: 86_400_000, recheckCron: '*/15 * * * *', accountsUrl: null, pointsUrl: null });
    expect(s.quality).to.deep.equal({ minPhotos: 3, minDescription: 100, requirePrice: true });
  });

  it('reads durations as 90s / 15m / 24h / 30d and overrides single values from the environment', () => {
    const config = loadConfig({ BONUS_POINTS: '5.50', BONUS_HOLD: '90s', BONUS_COOLDOWN: '15m', BONUS_ACCOUNTS_URL: 'http://accounts.local/v1/', BONUS_RECHECK_CRON: '*/5 * * * * *' });
    const s = parseBonusSettings({ hold: '24h', points_url: 'http://points.local/grants' }, config.bonus);
    expect(s).to.deep.include({ pointsMinor: 550, holdMs: 90_000, cooldownMs: 900_000, accountsUrl: 'http://accounts.local/v1', pointsUrl: 'http://points.local/grants', recheckCron: '*/5 * * * * *' });
    expect(parseBonusSettings({ points_url: 'http://p.local' }, loadConfig({ BONUS_POINTS_URL: 'none' }).bonus).pointsUrl).to.equal(null);
  });

  it('refuses bad files and bad variables, naming them', () => {
    expect(() => parseBonusSettings({ hold: 'soon' })).to.throw(/hold/);
    expect(() => parseBonusSettings({ points: '1.234' })).to.throw(/points/);
    expect(() => parseBonusSettings({ quality: { min_photos: -1 } })).to.throw(/min_photos/);
    expect(() => parseBonusSettings({ accounts_url: 'ftp://x' })).to.throw(/accounts_url/);
    expect(() => parseBonusSettings({ colour: 'red' })).to.throw(/colour/);
    let message = '';
    try {
      loadConfig({ BONUS_HOLD: 'later', BONUS_POINTS: 'many', NOTIFY_PUSH_URL: 'nope' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of ['BONUS_HOLD', 'BONUS_POINTS', 'NOTIFY_PUSH_URL']) expect(message).to.include(name);
  });
});
