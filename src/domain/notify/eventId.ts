import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks, as node:crypto's randomUUID does, not one syscall per id.
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A new event id: a UUID version 7 (RFC 9562), whose first 48 bits are the time in ms. A seen
 * fact's id therefore carries its `seen_at`, so what is remembered about a fact is its id alone.
 */
export function newEventId(atMs: number): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const b = pool.subarray(next * 16, next * 16 + 16);
  next++;
  const ms = Math.max(0, Math.floor(atMs));
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms % 0x1_0000_0000;
  b[0] = (high >>> 8) & 0xff;
  b[1] = high & 0xff;
  b[2] = (low >>> 24) & 0xff;
  b[3] = (low >>> 16) & 0xff;
  b[4] = (low >>> 8) & 0xff;
  b[5] = low & 0xff;
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  return `${hex(b, 0)}${hex(b, 1)}${hex(b, 2)}${hex(b, 3)}-${hex(b, 4)}${hex(b, 5)}-${hex(b, 6)}${hex(b, 7)}-${hex(b, 8)}${hex(b, 9)}-${hex(b, 10)}${hex(b, 11)}${hex(b, 12)}${hex(b, 13)}${hex(b, 14)}${hex(b, 15)}`;
}

function hex(b: Buffer, i: number): string {
  return HEX[b[i]!]!;
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The time (ms) a version 7 event id was made at; null for any other id. */
export function eventTime(eventId: string): number | null {
  if (!V7.test(eventId)) return null;
  return parseInt(eventId.slice(0, 8) + eventId.slice(9, 13), 16);
}
