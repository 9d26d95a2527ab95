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

/** The client went away mid-body: a 4xx nobody reads, not a server error worth a log line. */
class RequestAborted extends Error {
  readonly status = 400;
  readonly expose = true;
  constructor() {
    super('request aborted before its body ended');
    this.name = 'RequestAborted';
  }
}

// What clients send nearly always; anything else goes through Koa's full media-type parsing.
const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

function isJson(ctx: AppContext): boolean {
  return PLAIN_JSON.has(ctx.get('content-type').toLowerCase()) || ctx.is('application/json', 'application/*+json') !== false;
}

/**
 * Reads the body up to `limit` bytes: synchronously when it has all arrived, else with event
 * listeners rather than `for await` (the async iterator costs several promises per request on
 * the API's hottest path), written inline: a named closure per request also costs a
 * defineProperty under tsx (esbuild's keepNames).
 */
function readLimited(ctx: AppContext, declared: number, limit: number): Promise<string> | string {
  if (declared > limit) throw new PayloadTooLarge(limit);
  const req = ctx.req;
  // A small request usually arrives whole, before its handler first awaits: read it at once.
  if (req.complete && !req.readableFlowing && req.readableLength <= limit) {
    const all = req.read() as Buffer | null;
    return all === null ? '' : all.toString('utf8');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        // Stop reading; the connection is closed after the answer.
        settled = true;
        req.pause();
        ctx.set('Connection', 'close');
        reject(new PayloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(new RequestAborted());
    });
  });
}

/** Reads and parses a JSON body: 415 if not JSON, 413 over the limit, 400 if it does not parse. */
export async function readJsonBody(ctx: AppContext, limit: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  const hasBody = declared > 0 || ctx.get('transfer-encoding') !== '';
  if (!hasBody) return undefined;
  if (!isJson(ctx)) throw new UnsupportedMediaType();
  const read = readLimited(ctx, declared, limit);
  const text = typeof read === 'string' ? read : await read;
  ctx.state.rawBody = text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest('body is not valid JSON', 'invalid_json');
  }
}
