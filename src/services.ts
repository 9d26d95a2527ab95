import { redisTarget, type Config } from './config.ts';
import { createDb, type Db } from './platform/db.ts';
import { DbWatch } from './platform/dbWatch.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import type { Telemetry } from './platform/telemetry.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { createRedis, type RedisClient } from './platform/redis.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { Outbox } from '../queues/outbox/outbox.ts';
import { setEventValidation } from '../queues/outbox/writer.ts';
import { FlagStore } from './platform/flags.ts';
import { loadHiringSettings, type HiringSettings } from './domain/hiring/settings.ts';
import { loadIntegrations, type Integrations } from './domain/notify/integrations.ts';
import { loadBonusSettings, type BonusSettings } from './domain/bonus/settings.ts';
import { loadPopugSettings, type PopugSettings } from './domain/popug/settings.ts';
import { channelsFromConfig, type NotificationChannels } from './domain/notifications/channels.ts';
import { QueueSet } from '../queues/producer.ts';
import { contractsByQueue } from '../queues/contracts/index.ts';

/** The shared parts every role uses, built once per process and closed in order. */
export interface Services {
  config: Config;
  log: Logger;
  db: Db;
  /** The same database, every session READ COMMITTED: for the outbox runner's batch transactions. */
  dbReadCommitted: Db;
  /** Started by the api role: fails queries fast while MySQL does not answer (src/platform/dbWatch.ts). */
  dbWatch: DbWatch;
  /** Producer connection: commands fail fast when Redis is down, so requests answer 503. */
  redis: RedisClient;
  metrics: Metrics;
  clock: Clock;
  queues: QueueSet;
  /** Every transaction that writes outbox rows runs through `outbox.transaction(fn)`. */
  outbox: Outbox;
  notify: { integrations: Integrations };
  bonus: BonusSettings;
  popug: PopugSettings;
  notifications: { channels: NotificationChannels };
  /** Feature flags (MySQL, cached briefly, change announced over Redis). */
  flags: FlagStore;
  hiring: HiringSettings;
  /** OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/platform/telemetry.ts). */
  telemetry: Telemetry | undefined;
}

export interface ServiceOverrides {
  log?: Logger;
  clock?: Clock;
  integrations?: Integrations;
  metricsDefaults?: boolean;
  /** Bonus rules (tests pass small durations); default: BONUS_CONFIG_FILE plus BONUS_* overrides. */
  bonus?: BonusSettings;
  /** Popug rules (tests pass small batches and backoffs); default: POPUG_CONFIG_FILE plus POPUG_PAYOUT_CRON. */
  popug?: PopugSettings;
  /** Notification channels; default: the push and mail webhooks configured (NOTIFY_*_URL). */
  notificationChannels?: NotificationChannels;
  /** Hiring settings; default: HIRING_CONFIG_FILE plus HIRING_* overrides. */
  hiring?: HiringSettings;
  /** Started telemetry (runtime.ts starts it from the config; tests pass one with an in-memory exporter). */
  telemetry?: Telemetry;
}

export function createServices(config: Config, overrides: ServiceOverrides = {}): Services {
  const log = overrides.log ?? createLogger(config.logLevel, config.logFormat);
  setEventValidation(config.eventValidation);
  const dbBounds = { connectTimeoutMs: config.db.connectTimeoutMs, acquireTimeoutMs: config.db.acquireTimeoutMs };
  const db = createDb(config.databaseUrl, config.dbPoolMax, dbBounds);
  // Outbox batch transactions (READ COMMITTED, several per second per queue) get a pool whose
  // sessions already run it; connections open on first use, so a process without them opens none.
  const dbReadCommitted = createDb(config.databaseUrl, config.dbPoolMax, { ...dbBounds, readCommitted: true });
  const dbWatch = new DbWatch(config.databaseUrl, [db, dbReadCommitted], { everyMs: config.db.watchEveryMs, timeoutMs: config.db.watchTimeoutMs }, log);
  // A paused or partitioned Redis keeps the connection up and never answers: bound each command.
  const redis = createRedis(redisTarget(config), 'producer', { commandTimeout: config.redisCommandTimeoutMs });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const metrics = createMetrics({ defaults: overrides.metricsDefaults ?? true });
  // BullMQ's producer connection is its own, without auto-pipelining: an auto-pipeline copies every
  // Lua script BullMQ defines on a connection into each pipeline it builds, which the app's many
  // small commands would pay for; queue adds are few and go out as they come.
  const queueRedis = createRedis(redisTarget(config), 'producer', { enableAutoPipelining: false, commandTimeout: config.redisCommandTimeoutMs });
  queueRedis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (queues)'));
  const queues = new QueueSet(queueRedis, config.queuePrefix, overrides.telemetry?.bullmq, config.redisCluster);
  const clock = overrides.clock ?? systemClock;
  const outbox = new Outbox({ db, dbReadCommitted }, queues, contractsByQueue, log, { pollMs: config.outbox.pollMs, batchSize: config.outbox.batchSize, rowsPerJob: config.chat.jobBatch }, clock);
  return {
    config,
    log,
    db,
    dbReadCommitted,
    dbWatch,
    redis,
    metrics,
    clock,
    queues,
    outbox,
    notify: { integrations: overrides.integrations ?? loadIntegrations(config.integrationsFile) },
    bonus: overrides.bonus ?? loadBonusSettings(config.bonusConfigFile, config.bonus),
    popug: overrides.popug ?? loadPopugSettings(config.popugConfigFile, config.popug),
    notifications: { channels: overrides.notificationChannels ?? channelsFromConfig(config.notifications) },
    flags: new FlagStore(db, redis, `${config.queuePrefix}:flags`, config.flagsTtlMs, log, () => createRedis(redisTarget(config), 'worker')),
    hiring: overrides.hiring ?? loadHiringSettings(config.hiringConfigFile, config.hiringReviewThreshold),
    telemetry: overrides.telemetry,
  };
}

export async function closeServices(services: Services): Promise<void> {
  await services.outbox.stop();
  services.flags.close();
  await services.queues.close();
  services.queues.commandConnection().disconnect();
  services.redis.disconnect();
  await services.dbWatch.stop();
  await services.db.destroy();
  await services.dbReadCommitted.destroy();
}
