import { BadRequest, AppError } from '../../platform/errors.ts';
import type { AppContext } from '../context.ts';

class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super('payload_too_large', `body is larger than ${limit} bytes`, 413);
  }
}

class UnsupportedMediaType extends AppError {
  constructor() {
    super('unsupported_media_type', 'body must be application/json', 415);
  }
}

async function readLimited(ctx: AppContext, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new PayloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      // Stop reading; the connection will be closed after the answer.
      ctx.req.unpipe();
      ctx.set('Connection', 'close');
      throw new PayloadTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads and parses a JSON body: 415 if not JSON, 413 over the limit, 400 if it does not parse. */
export async function readJsonBody(ctx: AppContext, limit: number): Promise<unknown> {
  const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
  if (!hasBody) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) throw new UnsupportedMediaType();
  const text = await readLimited(ctx, limit);
  ctx.state.rawBody = text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest('body is not valid JSON', 'invalid_json');
  }
}
