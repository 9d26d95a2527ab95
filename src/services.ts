import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { createDb, type Db } from './platform/db.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { createRedis } from './platform/redis.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { OutboxRelay } from './platform/outbox/relay.ts';
import { loadIntegrations, type Integrations } from './domain/notify/integrations.ts';
import { loadBonusSettings, type BonusSettings } from './domain/bonus/settings.ts';
import { channelsFromConfig, type NotificationChannels } from './domain/notifications/channels.ts';
import { QueueSet } from '../queues/producer.ts';
import { contractsByQueue } from '../queues/contracts/index.ts';

/** The shared parts every role uses, built once per process and closed in order. */
export interface Services {
  config: Config;
  log: Logger;
  db: Db;
  /** The same database, every session READ COMMITTED: for the outbox batch runner (src/platform/outbox/batch.ts). */
  dbReadCommitted: Db;
  /** Producer connection: commands fail fast when Redis is down, so requests answer 503. */
  redis: Redis;
  metrics: Metrics;
  clock: Clock;
  queues: QueueSet;
  relay: OutboxRelay;
  notify: { integrations: Integrations };
  bonus: BonusSettings;
  notifications: { channels: NotificationChannels };
}

export interface ServiceOverrides {
  log?: Logger;
  clock?: Clock;
  integrations?: Integrations;
  metricsDefaults?: boolean;
  /** Bonus rules (tests pass small durations); default: BONUS_CONFIG_FILE plus BONUS_* overrides. */
  bonus?: BonusSettings;
  /** Notification channels; default: the push and mail webhooks configured (NOTIFY_*_URL). */
  notificationChannels?: NotificationChannels;
}

export function createServices(config: Config, overrides: ServiceOverrides = {}): Services {
  const log = overrides.log ?? createLogger(config.logLevel);
  const db = createDb(config.databaseUrl, config.dbPoolMax);
  // Outbox batch transactions (READ COMMITTED, several per second per queue) get a pool whose
  // sessions already run it; connections open on first use, so a process without them opens none.
  const dbReadCommitted = createDb(config.databaseUrl, config.dbPoolMax, { readCommitted: true });
  const redis = createRedis(config.redisUrl, 'producer', { commandTimeout: config.redisCommandTimeoutMs });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const metrics = createMetrics({ defaults: overrides.metricsDefaults ?? true });
  // BullMQ's producer connection is its own: BullMQ defines its ~60 Lua scripts on it, and an
  // auto-pipeline copies every defined command into each Pipeline it builds (~35 µs), which on the
  // shared connection every rate-limit token and history push paid. Queue adds are few (a batch,
  // a wake per commit) and go out as they come; app commands keep auto-pipelining, now cheap.
  const queueRedis = createRedis(config.redisUrl, 'producer', { enableAutoPipelining: false, commandTimeout: config.redisCommandTimeoutMs });
  queueRedis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (queues)'));
  const queues = new QueueSet(queueRedis, config.queuePrefix);
  const clock = overrides.clock ?? systemClock;
  const relay = new OutboxRelay(db, queues, contractsByQueue, log, { pollMs: config.outbox.pollMs, batchSize: config.outbox.batchSize, rowsPerJob: config.chat.jobBatch }, clock);
  return {
    config,
    log,
    db,
    dbReadCommitted,
    redis,
    metrics,
    clock,
    queues,
    relay,
    notify: { integrations: overrides.integrations ?? loadIntegrations(config.integrationsFile) },
    bonus: overrides.bonus ?? loadBonusSettings(config.bonusConfigFile, config.bonus),
    notifications: { channels: overrides.notificationChannels ?? channelsFromConfig(config.notifications) },
  };
}

export async function closeServices(services: Services): Promise<void> {
  await services.relay.stop();
  await services.queues.close();
  services.queues.connectionForPipelines().disconnect();
  services.redis.disconnect();
  await services.db.destroy();
  await services.dbReadCommitted.destroy();
}
