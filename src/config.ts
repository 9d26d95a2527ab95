import { parseDuration } from './platform/duration.ts';

/** Every setting Conveyor reads, parsed once. Nothing else reads process.env. */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string;
  dbPoolMax: number;
  redisUrl: string;
  redisCommandTimeoutMs: number;
  queuePrefix: string;
  jwtSecret: string;
  adminUser: string;
  adminPassword: string;
  integrationsFile: string;
  bonusConfigFile: string;
  popugConfigFile: string;
  roles: Role[];
  tz: string;
  logLevel: string;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  outbox: { pollMs: number; batchSize: number; reconcileMs: number; reconcileGraceMs: number; retentionMs: number };
  /** connectionRetentionMs: connection rows nobody deleted (a crashed ws process, an external gateway) go after this. */
  prune: { cron: string; idempotencyRetentionMs: number; connectionRetentionMs: number };
  workerConcurrencyScale: number;
  schedulerCheckMs: number;
  ws: {
    origins: string[]; maxFrameBytes: number; maxBufferedBytes: number; heartbeatMs: number;
    /** How long a socket closed by the server may take to read its close frame before it is cut. */
    closeGraceMs: number;
    /** The longest a handshake may wait for the room subscription and the connection's registration. */
    handshakeTimeoutMs: number;
  };
  chat: {
    historySize: number; historyWindowMs: number; messageMaxLength: number;
    messagesPerMinute: number; donationsPerMinute: number;
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
  /** Webhook channels of the notifications module; null: that channel is off (the inbox remains). */
  notifications: { pushUrl: string | null; mailUrl: string | null; timeoutMs: number };
  /** Most seen facts one api process puts in one delivery job (those accepted in the same event-loop turn). */
  notifyBatchMax: number;
  devTokens: boolean;
  warnings: string[];
}

export const ROLES = ['api', 'worker', 'ws', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

const DEV_JWT_SECRET = 'conveyor-dev-secret-change-me';

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

  duration(name: string, fallback: string): number {
    try {
      return parseDuration(this.str(name, fallback));
    } catch (err) {
      this.errors.push(`${name}: ${(err as Error).message}`);
      return parseDuration(fallback);
    }
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

/** Reads the environment (process.env by default) and throws ConfigError listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const nodeEnv = r.str('NODE_ENV', 'development');
  const mode = nodeEnv === 'production' || nodeEnv === 'test' ? nodeEnv : 'development';
  const warnings: string[] = [];

  const jwtSecret = r.str('JWT_SECRET', DEV_JWT_SECRET);
  const adminUser = r.str('ADMIN_USER', 'admin');
  const adminPassword = r.str('ADMIN_PASSWORD', 'admin');
  if (mode === 'production') {
    if (!env.JWT_SECRET || jwtSecret === DEV_JWT_SECRET) r.errors.push('JWT_SECRET is required in production');
    else if (jwtSecret.length < 32) r.errors.push('JWT_SECRET must be at least 32 characters in production');
    if (!env.ADMIN_USER || !env.ADMIN_PASSWORD || adminPassword === 'admin') {
      r.errors.push('ADMIN_USER and ADMIN_PASSWORD are required in production (and not admin/admin)');
    }
  } else {
    if (!env.JWT_SECRET) warnings.push('JWT_SECRET is not set: using the development secret');
    if (!env.ADMIN_PASSWORD) warnings.push('ADMIN_PASSWORD is not set: Bull Board uses admin/admin');
  }

  const roles = parseRoles(r.str('ROLE', 'all'), r.errors);
  const config: Config = {
    env: mode,
    port: r.int('PORT', 3000, 0, 65535),
    host: r.str('HOST', '0.0.0.0'),
    databaseUrl: r.url('DATABASE_URL', 'mysql://root@127.0.0.1:3306/conveyor', ['mysql:', 'mariadb:']),
    dbPoolMax: r.int('DB_POOL_MAX', 20, 1, 500),
    redisUrl: r.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    // A paused or frozen Redis keeps the socket open and never answers: without this, requests hang.
    redisCommandTimeoutMs: r.duration('REDIS_COMMAND_TIMEOUT', '3s'),
    queuePrefix: r.str('QUEUE_PREFIX', 'conveyor'),
    jwtSecret,
    adminUser,
    adminPassword,
    integrationsFile: r.str('INTEGRATIONS_FILE', 'config/integrations.json'),
    bonusConfigFile: r.str('BONUS_CONFIG_FILE', 'config/bonus.json'),
    popugConfigFile: r.str('POPUG_CONFIG_FILE', 'config/popug.json'),
    roles,
    tz: r.str('TZ', 'UTC'),
    logLevel: r.str('LOG_LEVEL', mode === 'test' ? 'silent' : 'info'),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    shutdownTimeoutMs: r.duration('SHUTDOWN_TIMEOUT', '30s'),
    outbox: {
      pollMs: r.duration('OUTBOX_POLL', '500ms'),
      batchSize: r.int('OUTBOX_BATCH', 200, 1, 5000),
      reconcileMs: r.duration('OUTBOX_RECONCILE_EVERY', '15s'),
      reconcileGraceMs: r.duration('OUTBOX_RECONCILE_GRACE', '30s'),
      retentionMs: r.duration('OUTBOX_RETENTION', '7d'),
    },
    prune: {
      cron: r.str('PRUNE_CRON', '17 * * * *'),
      idempotencyRetentionMs: r.duration('IDEMPOTENCY_RETENTION', '24h'),
      connectionRetentionMs: r.duration('CONNECTION_RETENTION', '7d'),
    },
    workerConcurrencyScale: r.int('WORKER_CONCURRENCY_SCALE', 1, 1, 100),
    schedulerCheckMs: r.duration('SCHEDULER_CHECK_EVERY', '10s'),
    ws: {
      origins: r.str('WS_ORIGINS', '').split(',').map((s) => s.trim()).filter(Boolean),
      maxFrameBytes: r.int('WS_MAX_FRAME_BYTES', 16 * 1024, 128, 1024 * 1024),
      maxBufferedBytes: r.int('WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024),
      heartbeatMs: r.duration('WS_HEARTBEAT', '30s'),
      closeGraceMs: r.duration('WS_CLOSE_GRACE', '5s'),
      handshakeTimeoutMs: r.duration('WS_HANDSHAKE_TIMEOUT', '5s'),
    },
    chat: {
      historySize: r.int('CHAT_HISTORY_SIZE', 20, 1, 1000),
      historyWindowMs: r.duration('CHAT_HISTORY_WINDOW', '10m'),
      messageMaxLength: r.int('CHAT_MESSAGE_MAX_LENGTH', 2000, 1, 60000),
      messagesPerMinute: r.int('CHAT_MESSAGES_PER_MINUTE', 60, 1, 1_000_000),
      donationsPerMinute: r.int('CHAT_DONATIONS_PER_MINUTE', 30, 1, 1_000_000),
      jobBatch: r.int('CHAT_JOB_BATCH', 100, 1, 500),
      acceptTransactions: r.int('CHAT_ACCEPT_TRANSACTIONS', 2, 1, 100),
    },
    bonus: dropUndefined({
      points: r.optionalMatching('BONUS_POINTS', /^(0|[1-9]\d{0,6})(\.\d{1,2})?$/, 'an amount such as 100.00'),
      cooldownMs: r.optionalDuration('BONUS_COOLDOWN'),
      holdMs: r.optionalDuration('BONUS_HOLD'),
      recheckCron: r.optionalMatching('BONUS_RECHECK_CRON', /^\S+( \S+){4,5}$/, 'a cron pattern with 5 or 6 fields'),
      accountsUrl: r.optionalUrl('BONUS_ACCOUNTS_URL'),
      pointsUrl: r.optionalUrl('BONUS_POINTS_URL'),
    }),
    notifications: {
      pushUrl: r.optionalUrl('NOTIFY_PUSH_URL') ?? null,
      mailUrl: r.optionalUrl('NOTIFY_MAIL_URL') ?? null,
      timeoutMs: r.duration('NOTIFY_TIMEOUT', '5s'),
    },
    notifyBatchMax: r.int('NOTIFY_BATCH_MAX', 100, 1, 1000),
    devTokens: mode !== 'production' && r.str('DEV_TOKENS', 'true') !== 'false',
    warnings,
  };
  if (r.errors.length > 0) throw new ConfigError(r.errors);
  return config;
}
