/**
 * Chat events whose wire frame carries a sequence number and its publish time (`data.n`, `data.t`
 * on the stampMs clock), and the probe that reads both back in place on the client side. Shared
 * by the ws benches, so every one of them sends and reads the same frames.
 */
import { randomUUID } from 'node:crypto';
import { toWire, type ChatEvent } from '../../../src/domain/chat/chatEvent.ts';
import { readDecimal, stampMs, type ProbeReader } from './ws-clients.ts';

const DATA_N = Buffer.from('"data":{"n":');
/** Where DATA_N stood in the last frame: makeEvent's frames all have it at the same offset. */
let dataAt = -1;

function hasDataAt(buf: Buffer, i: number, end: number): boolean {
  if (i < 0 || i + DATA_N.length >= end) return false;
  for (let k = 0; k < DATA_N.length; k++) if (buf[i + k] !== DATA_N[k]) return false;
  return true;
}

/**
 * `"data":{"n":<seq>,"t":<ms>` inside the frame (makeEvent's layout): read in place, no JSON
 * parse; looked for where the last frame had it, searched for otherwise. A frame laid out
 * otherwise has neither.
 */
export const readEventProbe: ProbeReader = (buf, start, end, into) => {
  into.seq = -1;
  into.stamp = NaN;
  let i = start + dataAt;
  if (!hasDataAt(buf, i, end)) {
    i = buf.indexOf(DATA_N, start);
    if (!hasDataAt(buf, i, end)) return;
    dataAt = i - start;
  }
  let j = i + DATA_N.length;
  let n = 0;
  for (; j < end && buf[j]! >= 0x30 && buf[j]! <= 0x39; j++) n = n * 10 + (buf[j]! - 0x30);
  // ,"t":
  if (j === i + DATA_N.length || buf[j] !== 0x2c || buf[j + 1] !== 0x22 || buf[j + 2] !== 0x74 || buf[j + 3] !== 0x22 || buf[j + 4] !== 0x3a) return;
  into.seq = n;
  into.stamp = readDecimal(buf, j + 5, end);
};

/** A chat event whose wire frame is `bytes` long and carries its sequence number and publish time. */
export function makeEvent(room: string, bytes: number, seq: number): ChatEvent {
  const event: ChatEvent = { type: 'message', event_id: randomUUID(), room, at: new Date().toISOString(), data: { n: seq, t: stampMs(), pad: '' }, audience: null };
  const size = Buffer.byteLength(JSON.stringify(toWire(event)));
  (event.data as { pad: string }).pad = 'x'.repeat(Math.max(0, bytes - size));
  return event;
}
