import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { compileSchema } from '../../platform/validation.ts';

/** HIRING_CONFIG_FILE: `review_threshold` completions get a candidate a reviewer (COMM-030). */
export interface HiringSettings {
  reviewThreshold: number;
}

const File = Type.Object({ review_threshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) }, { additionalProperties: false });

export const DEFAULT_REVIEW_THRESHOLD = 3;

/** A missing file means the defaults; a malformed one stops the process with its problems. */
export function loadHiringSettings(path: string, thresholdOverride?: number): HiringSettings {
  let raw: unknown = {};
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path}: ${(err as Error).message}`);
  }
  const check = compileSchema(File);
  if (!check(raw)) throw new Error(`${path}: ${check.errors().join('; ')}`);
  return { reviewThreshold: thresholdOverride ?? raw.review_threshold ?? DEFAULT_REVIEW_THRESHOLD };
}
