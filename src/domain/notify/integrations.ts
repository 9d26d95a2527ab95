import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { parseDuration } from '../../platform/duration.ts';
import { compileSchema } from '../../platform/validation.ts';
import { attemptsWithin, type Backoff } from '../../platform/backoff.ts';

const Duration = Type.Union([Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$' }), Type.Integer({ minimum: 0 })]);
const BackoffSchema = Type.Object(
  { delay_ms: Type.Integer({ minimum: 1 }), max_delay_ms: Type.Optional(Type.Integer({ minimum: 1 })), jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) },
  { additionalProperties: false },
);
const Common = {
  remember_for: Type.Optional(Duration),
  max_attempts: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.Null()])),
  backoff: Type.Optional(BackoffSchema),
};
const IntegrationSchema = Type.Union([
  Type.Object({ delivery: Type.Literal('http'), url: Type.String({ format: 'uri' }), timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 120_000 })), ...Common }, { additionalProperties: false }),
  Type.Object({ delivery: Type.Literal('topic'), topic: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }), ...Common }, { additionalProperties: false }),
]);
const FileSchema = Type.Record(Type.String(), IntegrationSchema, { propertyNames: { pattern: '^[A-Za-z0-9._-]{1,64}$' } });
export type IntegrationsFile = Static<typeof FileSchema>;

export interface Integration {
  tag: string;
  delivery: 'http' | 'topic';
  url: string | null;
  topic: string | null;
  timeoutMs: number;
  maxAttempts: number;
  backoff: Backoff;
  rememberMs: number;
}

export type Integrations = ReadonlyMap<string, Integration>;

const DAY = 86_400_000;

export function parseIntegrations(raw: unknown): Integrations {
  const check = compileSchema(FileSchema);
  if (!check(raw)) throw new Error(`integrations file is invalid: ${check.errors().join('; ')}`);
  const map = new Map<string, Integration>();
  for (const [tag, item] of Object.entries(raw)) {
    const backoff: Backoff = {
      delayMs: item.backoff?.delay_ms ?? 1000,
      maxDelayMs: item.backoff?.max_delay_ms ?? 600_000,
      jitter: item.backoff?.jitter ?? 0.2,
    };
    map.set(tag, {
      tag,
      delivery: item.delivery,
      url: item.delivery === 'http' ? item.url : null,
      topic: item.delivery === 'topic' ? item.topic : null,
      timeoutMs: item.delivery === 'http' ? (item.timeout_ms ?? 2000) : 0,
      maxAttempts: item.max_attempts ?? attemptsWithin(backoff, DAY),
      backoff,
      rememberMs: parseDuration(item.remember_for ?? '30d'),
    });
  }
  return map;
}

export function loadIntegrations(file: string): Integrations {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read integrations file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`integrations file ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseIntegrations(raw);
}
