import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('config', () => {
  it('runs with no environment at all, on the documented defaults, with warnings', () => {
    const c = loadConfig({});
    expect(c).to.include({ port: 3000, host: '0.0.0.0', queuePrefix: 'conveyor', tz: 'UTC', env: 'development' });
    expect(c.databaseUrl).to.equal('mysql://root@127.0.0.1:3306/conveyor');
    expect(c.redisUrl).to.equal('redis://127.0.0.1:6379');
    expect(c.roles).to.deep.equal(['api', 'worker', 'ws', 'scheduler']);
    expect(c.warnings.join(' ')).to.match(/JWT_SECRET/).and.match(/ADMIN_PASSWORD/);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', ROLE: 'api,cook', OUTBOX_POLL: 'soon', DATABASE_URL: 'nope' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'REDIS_URL', 'ROLE', 'OUTBOX_POLL', 'DATABASE_URL']) expect(problems).to.include(name);
    }
  });

  it('refuses development secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(ConfigError, /JWT_SECRET is required[\s\S]*ADMIN_USER and ADMIN_PASSWORD/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', ADMIN_USER: 'a', ADMIN_PASSWORD: 'b' })).to.throw(/at least 32/);
    const ok = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ADMIN_USER: 'ops', ADMIN_PASSWORD: 'long-password', WS_ORIGINS: 'https://chat.example' });
    expect(ok.devTokens).to.equal(false);
    expect(ok.warnings).to.deep.equal([]);
  });

  it('takes a comma list of roles', () => {
    expect(loadConfig({ ROLE: 'api, worker' }).roles).to.deep.equal(['api', 'worker']);
    expect(loadConfig({ ROLE: 'all' }).roles).to.have.length(4);
  });

  it('reads LOG_FORMAT: auto by default, json or pretty; anything else is refused', () => {
    expect(loadConfig({}).logFormat).to.equal('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).to.equal('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).to.equal('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).to.throw(ConfigError, /LOG_FORMAT must be one of auto, json, pretty/);
  });

  it('keeps consumed event pairs 30 days by default, and never shorter than done outbox rows', () => {
    expect(loadConfig({}).prune.consumedRetentionMs).to.equal(30 * 86_400_000);
    expect(loadConfig({ CONSUMED_EVENTS_RETENTION: '14d', OUTBOX_RETENTION: '14d' }).prune.consumedRetentionMs).to.equal(14 * 86_400_000);
    expect(() => loadConfig({ CONSUMED_EVENTS_RETENTION: '1d' })).to.throw(ConfigError, /CONSUMED_EVENTS_RETENTION must be at least OUTBOX_RETENTION/);
    expect(() => loadConfig({ CONSUMED_EVENTS_RETENTION: 'later' })).to.throw(ConfigError, /CONSUMED_EVENTS_RETENTION/);
  });

  it('REDIS_CLUSTER takes a comma list of seed nodes; without it a list is refused', () => {
    const c = loadConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://10.0.0.1:7000, redis://10.0.0.2:7000' });
    expect(c).to.include({ redisCluster: true, redisUrl: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000' });
    expect(loadConfig({}).redisCluster).to.equal(false);
    expect(() => loadConfig({ REDIS_URL: 'redis://a:1,redis://b:2' })).to.throw(ConfigError, /REDIS_URL lists 2 nodes: set REDIS_CLUSTER=true/);
    try {
      loadConfig({ REDIS_CLUSTER: 'yes', REDIS_URL: 'redis://a:1/2,http://b:2,redis://u:p@c:3,nope' });
      expect.fail('should throw');
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).to.include('REDIS_CLUSTER must be true or false');
    }
    try {
      loadConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:1/2,http://b:2,redis://u:p@c:3,nope' });
      expect.fail('should throw');
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).to.include('selects database 2; a Redis Cluster has database 0 only');
      expect(problems).to.include('REDIS_URL must use redis: or rediss:, got "http://b:2"');
      expect(problems).to.include('"nope" is not a URL');
      expect(problems).to.include('differ in scheme or credentials');
    }
  });
});
