import { expect } from 'chai';
import { attemptsWithin } from '../../../src/platform/backoff.ts';
import { loadIntegrations, parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { seenKey } from '../../../src/domain/notify/seenFact.ts';
import { isRetryableStatus } from '../../../src/domain/notify/deliverSeen.ts';

describe('mark-notify integrations', () => {
  it('reads the shipped config/integrations.json: Redis streams only, so a fresh start delivers without any consumer running', () => {
    const integrations = loadIntegrations('config/integrations.json');
    expect([...integrations.values()].map((i) => i.delivery)).to.deep.equal(['topic', 'topic']);
    expect(integrations.get('promotions')).to.deep.include({ delivery: 'topic', topic: 'promotions.seen', maxAttempts: 8, rememberMs: 30 * 86_400_000 });
    expect(integrations.get('banners')).to.deep.include({ delivery: 'topic', topic: 'banners.seen', rememberMs: 7 * 86_400_000 });
  });

  it('reads the HTTP example, config/integrations.http-example.json', () => {
    const promotions = loadIntegrations('config/integrations.http-example.json').get('promotions')!;
    expect(promotions).to.deep.include({ delivery: 'http', url: 'http://promotions.local/v1/seen', timeoutMs: 2000, maxAttempts: 8, rememberMs: 30 * 86_400_000 });
    expect(promotions.backoff).to.deep.equal({ delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 });
  });

  it('retries for about a day when max_attempts is not given', () => {
    const backoff = { delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 };
    const attempts = parseIntegrations({ t: { delivery: 'topic', topic: 't' } }).get('t')!.maxAttempts;
    expect(attempts).to.equal(attemptsWithin(backoff, 86_400_000));
    // 1 s doubling to a 10 min cap: ~10 ramp-up attempts, then 24 h / (10 min * 0.9 mean) ≈ 160.
    expect(attempts).to.be.within(150, 180);
  });

  it('rejects a malformed file with the reason', () => {
    expect(() => parseIntegrations({ x: { delivery: 'http' } })).to.throw(/integrations file is invalid/);
    expect(() => parseIntegrations({ x: { delivery: 'topic', topic: 't', extra: 1 } })).to.throw(/invalid/);
    expect(() => parseIntegrations({ 'bad tag!': { delivery: 'topic', topic: 't' } })).to.throw(/invalid/);
    expect(() => parseIntegrations({ x: { delivery: 'topic', topic: 't', remember_for: 'forever' } })).to.throw(/invalid/);
  });

  it('keys a fact by kind, stable identity, tag and id', () => {
    const a = seenKey('client', { user_id: 'u1', bound_uids: ['x'] }, 'promo', '1');
    expect(seenKey('client', { user_id: 'u1', bound_uids: ['y'], phone_id: 'p' }, 'promo', '1')).to.equal(a);
    expect(seenKey('client', { user_id: 'u2', bound_uids: ['x'] }, 'promo', '1')).to.not.equal(a);
    expect(seenKey('client', { user_id: 'u1', bound_uids: [] }, 'promo', '2')).to.not.equal(a);
    expect(seenKey('driver', { db_id: 'u1', uuid: '' }, 'promo', '1')).to.not.equal(a);
  });

  it('retries 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).to.equal(true);
    expect([400, 401, 403, 404, 409, 410, 422].some(isRetryableStatus)).to.equal(false);
  });
});
