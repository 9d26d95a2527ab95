import { createHash } from 'node:crypto';
import { BadRequest, Conflict } from '../platform/errors.ts';
import type { Db, Trx } from '../platform/db.ts';
import type { AppContext } from './context.ts';

export interface IdempotencyRequest {
  caller: string;
  scope: string;
  key: string;
  requestHash: string;
}

/** Stable across key order, so the "same body" means the same JSON value. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function idempotencyRequest(ctx: AppContext, caller: string, scope: string, body: unknown): IdempotencyRequest | null {
  const key = ctx.get('idempotency-key');
  if (key === '') return null;
  if (key.length > 128 || !/^[\x21-\x7e]+$/.test(key)) throw new BadRequest('Idempotency-Key must be 1-128 visible ASCII characters', 'bad_idempotency_key');
  return { caller, scope, key, requestHash: createHash('sha256').update(canonical(body ?? null)).digest('hex') };
}

function conflictUnlessSameBody(req: IdempotencyRequest, storedHash: string): void {
  if (storedHash !== req.requestHash) throw new Conflict('this Idempotency-Key was used with another body', 'idempotency_conflict');
}

/** The first answer for this key, if there is one; 409 if the key came with another body. */
export async function replayIfSeen(db: Db | Trx, req: IdempotencyRequest): Promise<{ status: number; body: unknown } | null> {
  const row = (await db('idempotency_keys').where({ caller: req.caller, scope: req.scope, idem_key: req.key }).first()) as
    | { request_hash: string; status_code: number; response: string }
    | undefined;
  if (!row) return null;
  conflictUnlessSameBody(req, row.request_hash);
  return { status: row.status_code, body: JSON.parse(row.response) as unknown };
}

/**
 * Saves the answer in the same transaction as the effect, so the effect and its key commit together.
 * A concurrent request with the same key collides on the primary key; its transaction rolls back and
 * the caller answers with the stored first answer (see saveOrReplay).
 */
export async function saveIdempotent(trx: Trx, req: IdempotencyRequest, status: number, body: Record<string, unknown>): Promise<void> {
  await trx('idempotency_keys').insert({
    caller: req.caller,
    scope: req.scope,
    idem_key: req.key,
    request_hash: req.requestHash,
    status_code: status,
    response: JSON.stringify({ success: true, ...body }),
    created_at: new Date(),
  });
}

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: string }).code === 'ER_DUP_ENTRY';
}
