import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { parseDuration } from '../../platform/duration.ts';
import { cronProblem } from '../../platform/cron.ts';
import { compileSchema } from '../../platform/validation.ts';
import type { Backoff } from '../../platform/backoff.ts';
import { parseMoney } from '../ledger/money.ts';

const Duration = Type.Union([Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$' }), Type.Integer({ minimum: 0 })]);
const HttpUrl = Type.Union([Type.String({ format: 'uri', pattern: '^https?://' }), Type.Null()]);
const Cron = Type.String({ pattern: '^\\S+( \\S+){4,5}$', maxLength: 200 });

const FileSchema = Type.Object(
  {
    points: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    cooldown: Type.Optional(Duration),
    hold: Type.Optional(Duration),
    recheck_cron: Type.Optional(Cron),
    accounts_url: Type.Optional(HttpUrl),
    points_url: Type.Optional(HttpUrl),
    quality: Type.Optional(
      Type.Object(
        {
          min_photos: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
          min_description: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
          require_price: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    recheck: Type.Optional(
      Type.Object(
        {
          batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
          timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 120_000 })),
          backoff: Type.Optional(
            Type.Object(
              { delay_ms: Type.Integer({ minimum: 1 }), max_delay_ms: Type.Optional(Type.Integer({ minimum: 1 })) },
              { additionalProperties: false },
            ),
          ),
          give_up_after: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
    points_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 120_000 })),
    dedupe_for: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export interface QualityRules {
  minPhotos: number;
  minDescription: number;
  requirePrice: boolean;
}

/** The bonus rules and their outside services, parsed once (BONUS_CONFIG_FILE plus env overrides). */
export interface BonusSettings {
  /** Points per grant, in minor units ("100.00" → 10000). */
  pointsMinor: number;
  cooldownMs: number;
  holdMs: number;
  recheckCron: string;
  accountsUrl: string | null;
  pointsUrl: string | null;
  quality: QualityRules;
  recheck: {
    batchSize: number;
    concurrency: number;
    timeoutMs: number;
    /** Pause after an accounts-service failure; doubles per consecutive failure. */
    backoff: Backoff;
    /** Consecutive failures after which the pass stops and the job is retried later. */
    giveUpAfter: number;
  };
  pointsTimeoutMs: number;
  /** How long an event_id is remembered for deduplication (processed_events is pruned after). */
  dedupeForMs: number;
}

/** Single values from the environment (BONUS_*) win over the file; null unsets a URL. */
export interface BonusOverrides {
  points?: string | undefined;
  cooldownMs?: number | undefined;
  holdMs?: number | undefined;
  recheckCron?: string | undefined;
  accountsUrl?: string | null | undefined;
  pointsUrl?: string | null | undefined;
}

export function parseBonusSettings(raw: unknown, overrides: BonusOverrides = {}): BonusSettings {
  const check = compileSchema(FileSchema);
  if (!check(raw)) throw new Error(`bonus config is invalid: ${check.errors().join('; ')}`);
  const points = overrides.points ?? raw.points ?? '100.00';
  let pointsMinor: number;
  try {
    pointsMinor = parseMoney(points);
  } catch {
    throw new Error(`bonus config: points must be a positive amount with at most two fraction digits, got ${JSON.stringify(points)}`);
  }
  const backoff = raw.recheck?.backoff;
  const recheckCron = overrides.recheckCron ?? raw.recheck_cron ?? '*/15 * * * *';
  const cronIssue = cronProblem(recheckCron);
  if (cronIssue) throw new Error(`bonus config: recheck_cron ${cronIssue}`);
  return {
    pointsMinor,
    cooldownMs: overrides.cooldownMs ?? parseDuration(raw.cooldown ?? '30d'),
    holdMs: overrides.holdMs ?? parseDuration(raw.hold ?? '24h'),
    recheckCron,
    accountsUrl: trimSlash(overrides.accountsUrl !== undefined ? overrides.accountsUrl : (raw.accounts_url ?? null)),
    pointsUrl: overrides.pointsUrl !== undefined ? overrides.pointsUrl : (raw.points_url ?? null),
    quality: {
      minPhotos: raw.quality?.min_photos ?? 3,
      minDescription: raw.quality?.min_description ?? 100,
      requirePrice: raw.quality?.require_price ?? true,
    },
    recheck: {
      batchSize: raw.recheck?.batch_size ?? 500,
      concurrency: raw.recheck?.concurrency ?? 32,
      timeoutMs: raw.recheck?.timeout_ms ?? 2000,
      backoff: { delayMs: backoff?.delay_ms ?? 500, maxDelayMs: backoff?.max_delay_ms ?? 30_000, jitter: 0.2 },
      giveUpAfter: raw.recheck?.give_up_after ?? 10,
    },
    pointsTimeoutMs: raw.points_timeout_ms ?? 5000,
    dedupeForMs: parseDuration(raw.dedupe_for ?? '30d'),
  };
}

function trimSlash(url: string | null): string | null {
  return url === null ? null : url.replace(/\/+$/, '');
}

export function loadBonusSettings(file: string, overrides: BonusOverrides = {}): BonusSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read bonus config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`bonus config file ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseBonusSettings(raw, overrides);
}
