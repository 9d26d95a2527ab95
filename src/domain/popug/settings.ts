import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { CronExpressionParser } from 'cron-parser';
import { compileSchema } from '../../platform/validation.ts';
import { parseMoney } from '../ledger/money.ts';

const Amount = Type.String({ pattern: '^(0|[1-9]\\d{0,6})(\\.\\d{1,2})?$' });
const Range = Type.Tuple([Amount, Amount]);

const FileSchema = Type.Object(
  {
    payout_cron: Type.Optional(Type.String({ maxLength: 200 })),
    fee_range: Type.Optional(Range),
    reward_range: Type.Optional(Range),
    mail_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    mail_from: Type.Optional(Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' })),
    /** Tasks per reshuffle transaction; employees per payout transaction (capped at the ledger batch of 500). */
    batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  },
  { additionalProperties: false },
);

/** POPUG_CONFIG_FILE, parsed once; money in minor units. */
export interface PopugSettings {
  payoutCron: string;
  feeRange: [number, number];
  rewardRange: [number, number];
  mailAttempts: number;
  mailFrom: string;
  batchSize: number;
}

/** Cron patterns with 5 fields or 6 (a leading seconds field), as BullMQ's job schedulers read them. */
export function validCron(pattern: string): boolean {
  if (!/^\S+( \S+){4,5}$/.test(pattern)) return false;
  try {
    CronExpressionParser.parse(pattern);
    return true;
  } catch {
    return false;
  }
}

function range(raw: [string, string] | undefined, fallback: [string, string], what: string): [number, number] {
  const [lo, hi] = (raw ?? fallback).map((x) => {
    try {
      return parseMoney(x);
    } catch {
      throw new Error(`popug config: ${what} holds "${x}", not an amount above 0`);
    }
  }) as [number, number];
  if (lo > hi) throw new Error(`popug config: ${what} runs from ${raw?.[0]} down to ${raw?.[1]}`);
  return [lo, hi];
}

export function parsePopugSettings(raw: unknown, overrides: { payoutCron?: string | undefined } = {}): PopugSettings {
  const check = compileSchema(FileSchema);
  if (!check(raw)) throw new Error(`popug config is invalid: ${check.errors().join('; ')}`);
  const payoutCron = overrides.payoutCron ?? raw.payout_cron ?? '59 23 * * *';
  if (!validCron(payoutCron)) throw new Error(`popug config: payout_cron "${payoutCron}" is not a cron pattern`);
  return {
    payoutCron,
    feeRange: range(raw.fee_range, ['10.00', '20.00'], 'fee_range'),
    rewardRange: range(raw.reward_range, ['20.00', '40.00'], 'reward_range'),
    mailAttempts: raw.mail_attempts ?? 5,
    mailFrom: raw.mail_from ?? 'payouts@popug.local',
    batchSize: raw.batch_size ?? 500,
  };
}

export function loadPopugSettings(file: string, overrides: { payoutCron?: string | undefined } = {}): PopugSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read popug config file ${file}: ${(err as Error).message}`);
  }
  return parsePopugSettings(raw, overrides);
}
