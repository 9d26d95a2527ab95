import { parseDuration } from './platform/duration.ts';
import { cronProblem, isTimeZone } from './platform/cron.ts';
import type { LogFormat } from './platform/logger.ts';
import type { RedisTarget } from './platform/redis.ts';

/** Every setting Conveyor reads, parsed once. Nothing else reads process.env. */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string;
  dbPoolMax: number;
  /**
   * Bounds that make requests answer 503 quickly while MySQL is unreachable: opening a connection,
   * waiting for one, and the api's probe (every watchEveryMs; unanswered after watchTimeoutMs, it
   * fails the waiting queries and refuses new ones until MySQL answers again).
   */
  db: { connectTimeoutMs: number; acquireTimeoutMs: number; watchEveryMs: number; watchTimeoutMs: number };
  /** One Redis URL, or with redisCluster the cluster's seed nodes, comma separated. */
  redisUrl: string;
  /** REDIS_CLUSTER: every connection is an ioredis Cluster and keys carry per-queue/per-room hash tags. */
  redisCluster: boolean;
  /** The longest a producer (api) Redis command may wait; workers' connections wait and retry forever. */
  redisCommandTimeoutMs: number;
  queuePrefix: string;
  jwtSecret: string;
  /** When set, tokens must carry this `iss` (and the token CLI and dev tokens write it). */
  jwtIssuer: string | null;
  /** When set, tokens must name this audience in `aud`. */
  jwtAudience: string | null;
  adminUser: string;
  adminPassword: string;
  integrationsFile: string;
  bonusConfigFile: string;
  popugConfigFile: string;
  hiringConfigFile: string;
  /** HIRING_REVIEW_THRESHOLD: overrides the hiring file's review_threshold. */
  hiringReviewThreshold: number | undefined;
  /** How long a process keeps feature flags before reading them again (a change is also announced over Redis). */
  flagsTtlMs: number;
  /** Producers and consumers check events against their schemas (off only to measure what that costs). */
  eventValidation: boolean;
  /** Approximate bound of each event topic's Redis stream (XADD MAXLEN ~). */
  topicMaxLength: number;
  /** Most events the topic-append queue takes in one job (one script per stream, one transaction). */
  topicAppendBatch: number;
  roles: Role[];
  tz: string;
  logLevel: string;
  /** auto: readable on a terminal, JSON otherwise. */
  logFormat: LogFormat;
  /** OpenTelemetry: traces exported over OTLP/HTTP when an endpoint is set; off (nothing loaded) otherwise. */
  otel: { endpoint: string | undefined; serviceName: string };
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  outbox: { pollMs: number; batchSize: number; reconcileMs: number; reconcileGraceMs: number; retentionMs: number };
  /** connectionRetentionMs: connection rows nobody deleted (a crashed ws process, an external gateway) go after this. */
  /**
   * consumedRetentionMs: how long a consumer remembers the (event_id, produced_at) pairs it took
   * (consumed_events); an event redelivered later than this would be taken again.
   */
  prune: { cron: string; idempotencyRetentionMs: number; connectionRetentionMs: number; consumedRetentionMs: number };
  workerConcurrencyScale: number;
  /**
   * BullMQ's job lock (renewed every half of it while the job runs) and how often each worker
   * looks for jobs whose lock lapsed: a job whose worker died runs again within about their sum.
   */
  worker: { lockDurationMs: number; stalledIntervalMs: number };
  schedulerCheckMs: number;
  ws: {
    origins: string[]; maxFrameBytes: number; maxBufferedBytes: number; heartbeatMs: number;
    /** How long a socket closed by the server may take to read its close frame before it is cut. */
    closeGraceMs: number;
    /** The longest a handshake may wait for the room subscription and the connection's registration. */
    handshakeTimeoutMs: number;
    /** Pings (frames and {"type":"ping"}) a socket may send per minute; past it the socket is closed 1008. */
    pingsPerMinute: number;
  };
  chat: {
    historySize: number; historyWindowMs: number; messageMaxLength: number;
    messagesPerMinute: number; donationsPerMinute: number;
    /** Per caller: history reads, connection ids bound (POST /chat/connection/add), goals created. */
    historyReadsPerMinute: number; connectionsPerMinute: number; goalsPerMinute: number;
    /** Most outbox rows one chat listener job handles in one transaction (its own plus claimed ones). */
    jobBatch: number;
    /**
     * Donation accept transactions in flight per api process; donations that arrive meanwhile are
     * written together in the next one (group commit, src/platform/groupCommit.ts).
     */
    acceptTransactions: number;
  };
  /** Single-value overrides of BONUS_CONFIG_FILE (BONUS_*); unset fields keep the file's value. */
  bonus: { points?: string; cooldownMs?: number; holdMs?: number; recheckCron?: string; accountsUrl?: string | null; pointsUrl?: string | null };
  /** Single-value override of POPUG_CONFIG_FILE (POPUG_PAYOUT_CRON). */
  popug: { payoutCron?: string };
  /** Outgoing mail (smtp:// or smtps://); null: mails are logged and kept in the inbox only. */
  smtpUrl: string | null;
  /** Webhook channels of the notifications module; null: that channel is off (the inbox remains). */
  notifications: { pushUrl: string | null; mailUrl: string | null; timeoutMs: number };
  /** Most seen facts one api process puts in one delivery job (those accepted in the same event-loop turn). */
  notifyBatchMax: number;
  /** Anonymous mark-notify requests per client IP and minute (tokens are limited by nothing: they are signed). */
  notifyAnonymousPerMinute: number;
  /** Failed HTTP Basic logins (/admin/*) per client IP and minute; past it every /admin request is 429. */
  adminAuthFailuresPerMinute: number;
  /** Take the client IP from X-Forwarded-For (set only behind a proxy that writes it: else anyone picks their IP). */
  trustProxy: boolean;
  /** POST /dev/token is mounted (never in production; see DEV_TOKENS). */
  devTokens: boolean;
  /** token: Bearer token /metrics requires (null: open); cacheMs: how long scrape-time gauges are reused. */
  metrics: { token: string | null; cacheMs: number };
  warnings: string[];
}

export const ROLES = ['api', 'worker', 'ws', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

const DEV_JWT_SECRET = 'conveyor-dev-secret-change-me';
const MODES = ['development', 'test', 'production'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// setTimeout/setInterval treat anything longer as 1 ms: a poll period above it would spin.
const MAX_TIMER_MS = 2_147_483_647;

type Env = Record<string, string | undefined>;

class Reader {
  readonly errors: string[] = [];
  constructor(private readonly env: Env) {}

  str(name: string, fallback: string): string {
    const value = this.env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.errors.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === 'on' || raw === '1') return true;
    if (raw === 'false' || raw === 'off' || raw === '0') return false;
    this.errors.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  duration(name: string, fallback: string): number {
    try {
      return parseDuration(this.str(name, fallback));
    } catch (err) {
      this.errors.push(`${name}: ${(err as Error).message}`);
      return parseDuration(fallback);
    }
  }

  /** A duration that drives a timer: more than zero and no longer than a timer can wait. */
  timer(name: string, fallback: string): number {
    const value = this.duration(name, fallback);
    if (value < 1 || value > MAX_TIMER_MS) {
      this.errors.push(`${name} must be between 1ms and 24d, got "${this.env[name]}"`);
      return parseDuration(fallback);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.str(name, fallback);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.errors.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return fallback;
  }

  /** Unset or empty → null. */
  optionalString(name: string, maxLength = 256): string | null {
    const value = this.env[name];
    if (value === undefined || value === '') return null;
    if (value.length > maxLength) this.errors.push(`${name} must be at most ${maxLength} characters`);
    return value;
  }

  cron(name: string, fallback: string, tz: string): string {
    const value = this.str(name, fallback);
    const problem = cronProblem(value, tz);
    if (problem) this.errors.push(`${name}: ${problem}`);
    return value;
  }

  optionalCron(name: string, tz: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : this.cron(name, value, tz);
  }

  /** Unset → undefined; "none" → null (turns off a URL the config file sets). */
  optionalUrl(name: string): string | null | undefined {
    const value = this.env[name];
    if (value === undefined || value === '') return undefined;
    if (value === 'none') return null;
    try {
      if (!['http:', 'https:'].includes(new URL(value).protocol)) this.errors.push(`${name} must use http: or https:, got "${value}"`);
    } catch {
      this.errors.push(`${name} is not a URL: "${value}"`);
    }
    return value;
  }

  optionalDuration(name: string): number | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : this.duration(name, '0');
  }

  optionalMatching(name: string, pattern: RegExp, what: string): string | undefined {
    const value = this.env[name];
    if (value === undefined || value === '') return undefined;
    if (!pattern.test(value)) this.errors.push(`${name} must be ${what}, got "${value}"`);
    return value;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.str(name, fallback);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) this.errors.push(`${name} must use ${protocols.join(' or ')}, got "${value}"`);
    } catch {
      this.errors.push(`${name} is not a URL: "${value}"`);
    }
    return value;
  }
}

/** The environment with some variables replaced (e.g. ROLE from a --role flag). */
export function envWith(overrides: Env): Env {
  return { ...process.env, ...overrides };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

function parseRoles(raw: string, errors: string[]): Role[] {
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.includes('all')) return [...ROLES];
  const roles: Role[] = [];
  for (const name of names) {
    if ((ROLES as readonly string[]).includes(name)) roles.push(name as Role);
    else errors.push(`ROLE: unknown role "${name}" (use all, ${ROLES.join(', ')})`);
  }
  if (roles.length === 0 && errors.length === 0) errors.push('ROLE: no role given');
  return roles;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export interface LoadOptions {
  /** More checks on the parsed settings (the module config files they name); their problems join the list. */
  check?: (config: Config) => string[];
}

/**
 * POST /dev/token mints tokens with no credentials, so it is opt-in: DEV_TOKENS=true, or unset in
 * development while the built-in secret is in use (tokens signed with it are worthless anywhere
 * else). Production refuses DEV_TOKENS=true outright rather than ignoring it.
 */
function devTokensOn(r: Reader, mode: Config['env'], jwtSecret: string): boolean {
  const raw = r.str('DEV_TOKENS', '');
  if (raw !== '' && raw !== 'true' && raw !== 'false') {
    r.errors.push(`DEV_TOKENS must be true or false, got "${raw}"`);
    return false;
  }
  if (raw === 'true' && mode === 'production') {
    r.errors.push('DEV_TOKENS=true is refused in production (anyone could mint tokens)');
    return false;
  }
  if (raw === '') return mode === 'development' && jwtSecret === DEV_JWT_SECRET;
  return raw === 'true';
}

/**
 * REDIS_URL is one URL; with REDIS_CLUSTER=true it may list several seed nodes (any one that
 * answers shows the client the rest). A cluster has database 0 only, and one set of credentials.
 */
function redisSettings(r: Reader): { redisUrl: string; redisCluster: boolean } {
  const redisCluster = r.bool('REDIS_CLUSTER', false);
  const raw = r.str('REDIS_URL', 'redis://127.0.0.1:6379');
  const seeds = raw.split(',').map((s) => s.trim());
  if (!redisCluster && seeds.length > 1) {
    r.errors.push(`REDIS_URL lists ${seeds.length} nodes: set REDIS_CLUSTER=true to use a Redis Cluster, or give one URL`);
    return { redisUrl: raw, redisCluster };
  }
  const credentials = new Set<string>();
  for (const seed of seeds) {
    let url: URL;
    try {
      url = new URL(seed);
    } catch {
      r.errors.push(`REDIS_URL: "${seed}" is not a URL`);
      continue;
    }
    if (!['redis:', 'rediss:'].includes(url.protocol)) r.errors.push(`REDIS_URL must use redis: or rediss:, got "${seed}"`);
    else if (redisCluster && !url.hostname) r.errors.push(`REDIS_URL: "${seed}" names no host`);
    else if (redisCluster && !['', '/', '/0'].includes(url.pathname)) r.errors.push(`REDIS_URL: "${seed}" selects database ${url.pathname.slice(1)}; a Redis Cluster has database 0 only`);
    credentials.add(`${url.protocol}${url.username}:${url.password}`);
  }
  if (credentials.size > 1) r.errors.push('REDIS_URL: the seed nodes differ in scheme or credentials; a cluster has one of each');
  return { redisUrl: seeds.join(','), redisCluster };
}

/** Reads the environment (process.env by default) and throws ConfigError listing every bad variable. */
export function loadConfig(env: Env = process.env, opts: LoadOptions = {}): Config {
  const r = new Reader(env);
  // Anything but the three names refuses to start: a typo such as "prod" must not run as development.
  const mode = r.oneOf('NODE_ENV', MODES, 'development');
  const warnings: string[] = [];

  const jwtSecret = r.str('JWT_SECRET', DEV_JWT_SECRET);
  const adminUser = r.str('ADMIN_USER', 'admin');
  const adminPassword = r.str('ADMIN_PASSWORD', 'admin');
  if (mode === 'production') {
    if (!env.JWT_SECRET || jwtSecret === DEV_JWT_SECRET) r.errors.push('JWT_SECRET is required in production');
    else if (jwtSecret.length < 32) r.errors.push('JWT_SECRET must be at least 32 characters in production');
    if (!env.ADMIN_USER || !env.ADMIN_PASSWORD || adminPassword === 'admin') {
      r.errors.push('ADMIN_USER and ADMIN_PASSWORD are required in production (and not admin/admin)');
    } else if (adminPassword.length < 12) r.errors.push('ADMIN_PASSWORD must be at least 12 characters in production');
    // Without an allowlist any site's page could open a socket with its visitor's token.
    if (!env.WS_ORIGINS?.trim()) r.errors.push('WS_ORIGINS is required in production (the origins of the pages that open /ws, comma separated)');
  } else {
    if (!env.JWT_SECRET) warnings.push('JWT_SECRET is not set: using the development secret');
    if (!env.ADMIN_PASSWORD) warnings.push('ADMIN_PASSWORD is not set: Bull Board uses admin/admin');
  }

  const roles = parseRoles(r.str('ROLE', 'all'), r.errors);
  const tz = r.str('TZ', 'UTC');
  const tzValid = isTimeZone(tz);
  if (!tzValid) r.errors.push(`TZ must be a time zone such as UTC or Europe/Moscow, got "${tz}"`);
  // Cron patterns are checked in the zone they will run in (UTC while TZ itself is wrong).
  const cronTz = tzValid ? tz : 'UTC';
  const metricsToken = r.optionalString('METRICS_TOKEN');
  if (metricsToken !== null && metricsToken.length < 16) r.errors.push('METRICS_TOKEN must be at least 16 characters');
  const config: Config = {
    env: mode,
    port: r.int('PORT', 3000, 0, 65535),
    host: r.str('HOST', '0.0.0.0'),
    databaseUrl: r.url('DATABASE_URL', 'mysql://root@127.0.0.1:3306/conveyor', ['mysql:', 'mariadb:']),
    dbPoolMax: r.int('DB_POOL_MAX', 20, 1, 500),
    db: {
      connectTimeoutMs: r.duration('DB_CONNECT_TIMEOUT', '2s'),
      acquireTimeoutMs: r.duration('DB_ACQUIRE_TIMEOUT', '2500ms'),
      watchEveryMs: r.duration('DB_WATCH_EVERY', '500ms'),
      watchTimeoutMs: r.duration('DB_WATCH_TIMEOUT', '1500ms'),
    },
    ...redisSettings(r),
    redisCommandTimeoutMs: r.duration('REDIS_COMMAND_TIMEOUT', '1500ms'),
    queuePrefix: r.str('QUEUE_PREFIX', 'conveyor'),
    jwtSecret,
    jwtIssuer: r.optionalString('JWT_ISSUER'),
    jwtAudience: r.optionalString('JWT_AUDIENCE'),
    adminUser,
    adminPassword,
    integrationsFile: r.str('INTEGRATIONS_FILE', 'config/integrations.json'),
    bonusConfigFile: r.str('BONUS_CONFIG_FILE', 'config/bonus.json'),
    popugConfigFile: r.str('POPUG_CONFIG_FILE', 'config/popug.json'),
    hiringConfigFile: r.str('HIRING_CONFIG_FILE', 'config/hiring.json'),
    hiringReviewThreshold: env.HIRING_REVIEW_THRESHOLD ? r.int('HIRING_REVIEW_THRESHOLD', 3, 1, 1_000_000) : undefined,
    flagsTtlMs: r.duration('FLAGS_TTL', '500ms'),
    eventValidation: r.bool('EVENT_VALIDATION', true),
    topicMaxLength: r.int('TOPIC_MAX_LENGTH', 100_000, 10, 100_000_000),
    topicAppendBatch: r.int('TOPIC_APPEND_BATCH', 500, 1, 5_000),
    roles,
    tz,
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, mode === 'test' ? 'silent' : 'info'),
    logFormat: r.oneOf('LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    otel: { endpoint: r.optionalUrl('OTEL_EXPORTER_OTLP_ENDPOINT') ?? undefined, serviceName: r.str('OTEL_SERVICE_NAME', 'conveyor') },
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    shutdownTimeoutMs: r.timer('SHUTDOWN_TIMEOUT', '30s'),
    outbox: {
      pollMs: r.timer('OUTBOX_POLL', '500ms'),
      batchSize: r.int('OUTBOX_BATCH', 200, 1, 5000),
      reconcileMs: r.timer('OUTBOX_RECONCILE_EVERY', '15s'),
      reconcileGraceMs: r.duration('OUTBOX_RECONCILE_GRACE', '30s'),
      retentionMs: r.duration('OUTBOX_RETENTION', '7d'),
    },
    prune: {
      cron: r.cron('PRUNE_CRON', '17 * * * *', cronTz),
      idempotencyRetentionMs: r.duration('IDEMPOTENCY_RETENTION', '24h'),
      connectionRetentionMs: r.duration('CONNECTION_RETENTION', '7d'),
      consumedRetentionMs: r.duration('CONSUMED_EVENTS_RETENTION', '30d'),
    },
    workerConcurrencyScale: r.int('WORKER_CONCURRENCY_SCALE', 1, 1, 100),
    worker: { lockDurationMs: r.duration('WORKER_LOCK_DURATION', '10s'), stalledIntervalMs: r.duration('WORKER_STALLED_INTERVAL', '5s') },
    schedulerCheckMs: r.timer('SCHEDULER_CHECK_EVERY', '10s'),
    ws: {
      origins: r.str('WS_ORIGINS', '').split(',').map((s) => s.trim()).filter(Boolean),
      maxFrameBytes: r.int('WS_MAX_FRAME_BYTES', 16 * 1024, 128, 1024 * 1024),
      maxBufferedBytes: r.int('WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024),
      heartbeatMs: r.timer('WS_HEARTBEAT', '30s'),
      closeGraceMs: r.timer('WS_CLOSE_GRACE', '5s'),
      handshakeTimeoutMs: r.timer('WS_HANDSHAKE_TIMEOUT', '5s'),
      pingsPerMinute: r.int('WS_PINGS_PER_MINUTE', 60, 1, 100_000),
    },
    chat: {
      historySize: r.int('CHAT_HISTORY_SIZE', 20, 1, 1000),
      historyWindowMs: r.duration('CHAT_HISTORY_WINDOW', '10m'),
      messageMaxLength: r.int('CHAT_MESSAGE_MAX_LENGTH', 2000, 1, 60000),
      messagesPerMinute: r.int('CHAT_MESSAGES_PER_MINUTE', 60, 1, 1_000_000),
      donationsPerMinute: r.int('CHAT_DONATIONS_PER_MINUTE', 30, 1, 1_000_000),
      historyReadsPerMinute: r.int('CHAT_HISTORY_READS_PER_MINUTE', 120, 1, 1_000_000),
      connectionsPerMinute: r.int('CHAT_CONNECTIONS_PER_MINUTE', 30, 1, 1_000_000),
      goalsPerMinute: r.int('CHAT_GOALS_PER_MINUTE', 10, 1, 1_000_000),
      jobBatch: r.int('CHAT_JOB_BATCH', 100, 1, 500),
      acceptTransactions: r.int('CHAT_ACCEPT_TRANSACTIONS', 2, 1, 100),
    },
    bonus: dropUndefined({
      points: r.optionalMatching('BONUS_POINTS', /^(0|[1-9]\d{0,6})(\.\d{1,2})?$/, 'an amount such as 100.00'),
      cooldownMs: r.optionalDuration('BONUS_COOLDOWN'),
      holdMs: r.optionalDuration('BONUS_HOLD'),
      recheckCron: r.optionalCron('BONUS_RECHECK_CRON', cronTz),
      accountsUrl: r.optionalUrl('BONUS_ACCOUNTS_URL'),
      pointsUrl: r.optionalUrl('BONUS_POINTS_URL'),
    }),
    popug: dropUndefined({
      payoutCron: r.optionalMatching('POPUG_PAYOUT_CRON', /^\S+( \S+){4,5}$/, 'a cron pattern with 5 or 6 fields'),
    }),
    smtpUrl: env.SMTP_URL ? r.url('SMTP_URL', '', ['smtp:', 'smtps:']) : null,
    notifications: {
      pushUrl: r.optionalUrl('NOTIFY_PUSH_URL') ?? null,
      mailUrl: r.optionalUrl('NOTIFY_MAIL_URL') ?? null,
      timeoutMs: r.timer('NOTIFY_TIMEOUT', '5s'),
    },
    notifyBatchMax: r.int('NOTIFY_BATCH_MAX', 100, 1, 1000),
    notifyAnonymousPerMinute: r.int('NOTIFY_ANONYMOUS_PER_MINUTE', 600, 1, 10_000_000),
    adminAuthFailuresPerMinute: r.int('ADMIN_AUTH_FAILURES_PER_MINUTE', 10, 1, 1_000_000),
    trustProxy: r.bool('TRUST_PROXY', false),
    devTokens: devTokensOn(r, mode, jwtSecret),
    metrics: { token: metricsToken, cacheMs: r.duration('METRICS_CACHE', '5s') },
    warnings,
  };
  if (config.metrics.cacheMs > 60_000) r.errors.push('METRICS_CACHE must be at most 60s');
  // The lock is renewed every half of it: shorter, a busy event loop would let live jobs look stalled.
  if (config.worker.lockDurationMs < 2_000) r.errors.push('WORKER_LOCK_DURATION must be at least 2s');
  // A done outbox row still kept may be delivered again: its consumers must still remember it.
  if (config.prune.consumedRetentionMs < config.outbox.retentionMs) r.errors.push('CONSUMED_EVENTS_RETENTION must be at least OUTBOX_RETENTION');
  if (config.devTokens) warnings.push('POST /dev/token is on: anyone who reaches this port can mint page-role tokens');
  if (opts.check) r.errors.push(...opts.check(config));
  if (r.errors.length > 0) throw new ConfigError(r.errors);
  return config;
}

/** The Redis every connection of this process goes to (src/platform/redis.ts createRedis). */
export function redisTarget(config: Pick<Config, 'redisUrl' | 'redisCluster'>): RedisTarget {
  return { url: config.redisUrl, cluster: config.redisCluster };
}
