/**
 * Many WebSocket clients in one process, counting deliveries and publish-to-receive latency
 * from a send timestamp embedded in each message; given a sequence number in each message too,
 * it records which messages every client got, so a loss, a duplicate or a message meant for
 * another room is counted rather than hidden in a total.
 *
 * The clients speak RFC 6455 over plain sockets instead of through `ws`: a thousand of them share
 * the benchmark's cores with the server under test, so they must cost as little per frame as
 * possible: every read lands in one buffer all clients share (net's `onread`: no Buffer and no
 * stream event per read), frames are read in place (no Buffer and no UTF-8 check per frame), all
 * frames of one read share one receive time, and latencies go into a preallocated histogram.
 * Pings are answered and closes echoed, as any client does; the handshake's accept key is checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { RawData } from 'ws';
import { LatencyHistogram } from './stats.ts';

// performance.now() counts on CLOCK_MONOTONIC from this process's start; adding the clock's own
// reading at that moment gives the one clock every process of the machine shares, so a stamp
// written in one process can be read in another (performance.timeOrigin is each process's own
// reading of the wall clock at its start, and the wall clock may be stepped or slewed meanwhile).
const MONOTONIC_OFFSET_MS = ((): number => {
  performance.now(); // the first call may be slow to answer
  const before = performance.now();
  const monotonic = Number(process.hrtime.bigint()) / 1e6;
  return monotonic - (before + performance.now()) / 2;
})();

/** Milliseconds on CLOCK_MONOTONIC, µs resolution: publish stamps and receive times, in any process. */
export function stampMs(): number {
  return MONOTONIC_OFFSET_MS + performance.now();
}

/** `t=<ms>;` then padding up to `bytes`: the stamp is found without parsing JSON. */
export function stampedMessage(bytes = 200, at = stampMs()): string {
  const head = `t=${at.toFixed(3)};`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

/** The stamp of a stampedMessage, or undefined. */
export function readStamp(data: RawData | string): number | undefined {
  const text = typeof data === 'string' ? data.slice(0, 32) : Buffer.isBuffer(data) ? data.toString('latin1', 0, 32) : undefined;
  if (text === undefined || !text.startsWith('t=')) return undefined;
  const end = text.indexOf(';');
  const t = Number(text.slice(2, end > 0 ? end : undefined));
  return Number.isFinite(t) ? t : undefined;
}

/** What a message carries for the harness; a reader fills it in place (no object per frame). */
export interface Probe {
  /** Send time in ms (stampMs clock), NaN when the message has none. */
  stamp: number;
  /** Sequence number (a non-negative integer), -1 when the message has none. */
  seq: number;
}

/** Reads the probe of the message held in buf[start, end). */
export type ProbeReader = (buf: Buffer, start: number, end: number, into: Probe) => void;

const T_EQ = 0x74 | (0x3d << 8); // "t="

/** The probe of a stampedMessage: its stamp, no sequence number. */
export const stampedProbe: ProbeReader = (buf, start, end, into) => {
  into.seq = -1;
  into.stamp = end - start > 2 && buf.readUInt16LE(start) === T_EQ ? readDecimal(buf, start + 2, end) : NaN;
};

/** The decimal number at buf[i…] (digits, then an optional fraction), NaN when there is none. */
export function readDecimal(buf: Buffer, i: number, end: number): number {
  let int = 0;
  const first = i;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) int = int * 10 + (buf[i++]! - 0x30);
  if (i === first) return NaN;
  if (i >= end || buf[i] !== 0x2e) return int;
  let frac = 0;
  let scale = 1;
  for (i++; i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) {
    frac = frac * 10 + (buf[i]! - 0x30);
    scale *= 10;
  }
  return int + frac / scale;
}

export interface WsClientsOptions {
  count: number;
  /** The address of client i, e.g. (i) => `ws://127.0.0.1:${port}/?room=r${i % 10}`. */
  urlFor: (i: number) => string;
  /** Reads stamp and sequence number of a message. Default: the stamp of a stampedMessage. */
  probe?: ProbeReader;
  /**
   * The loopback source address of client i (127.0.0.x): one source address gives at most one
   * ephemeral port range of sockets to one server port. Default: the system's choice.
   */
  localAddress?: (i: number) => string;
  /** Handshakes in flight at once. Default 100. */
  parallel?: number;
  connectTimeoutMs?: number;
}

/** Which of the expected messages each client got, after a window (see WsClients.audit). */
export interface Audit {
  /** Expected deliveries that never came. */
  missing: number;
  /** Messages a client got more than once (every receipt after the first). */
  duplicates: number;
  /** Messages with a sequence number of this window that were not meant for the client. */
  unexpected: number;
  /** Messages whose sequence number belongs to an earlier window (late deliveries of a previous phase). */
  stale: number;
  /** Messages without a sequence number. */
  unnumbered: number;
  /** Protocol errors (a masked, fragmented or malformed frame) and sockets closed during the window. */
  protocolErrors: number;
  closed: number;
}

export interface WsClients {
  sockets: net.Socket[];
  /** Data messages received since the last reset (duplicates included: the audit tells them apart). */
  readonly delivered: number;
  /** Latency of each first receipt since the last reset. */
  histogram: LatencyHistogram;
  /** Starts a fresh measurement window; sequence numbers from `firstSeq` on belong to it. */
  reset(firstSeq?: number): void;
  /** Resolves when `delivered` reaches `n` or stops growing for `quietMs`, or after timeoutMs. */
  settle(n: number, timeoutMs?: number, quietMs?: number): Promise<void>;
  /**
   * Checks every client's receipts against what it should have got: `expected(i)` lists the
   * sequence numbers of this window meant for client i. Needs a probe that reads sequence numbers.
   */
  audit(expected: (i: number) => Iterable<number>): Audit;
  /** Stops reading on client i (its socket's receive buffer fills, then the server's send buffer). */
  freeze(i: number): void;
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A masked client frame (RFC 6455, 5.3), for the few control frames a client sends. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('control frames carry at most 125 bytes');
  const mask = randomBytes(4);
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let k = 0; k < payload.length; k++) frame[6 + k] = payload[k]! ^ mask[k & 3]!;
  return frame;
}

/** One client's receipts in the current window: a bit per sequence number from the window's first. */
class Receipts {
  bits = new Uint8Array(256);

  /** Marks seq (relative to the window); false when it was already marked. */
  mark(rel: number): boolean {
    const byte = rel >> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, byte + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const bit = 1 << (rel & 7);
    if (this.bits[byte]! & bit) return false;
    this.bits[byte]! |= bit;
    return true;
  }

  has(rel: number): boolean {
    const byte = rel >> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (rel & 7))) !== 0;
  }

  clear(): void {
    this.bits.fill(0);
  }
}

/** What is wrong with the server's answer to an upgrade (its head, without the blank line), if anything. */
function handshakeProblem(head: string, accept: string): string | undefined {
  const [status, ...lines] = head.split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  if (!/^HTTP\/1\.1 101 /.test(status!)) return `refused with "${status}"`;
  if (headers.get('sec-websocket-accept') !== accept) return 'bad Sec-WebSocket-Accept';
  // None was offered (no permessage-deflate), so none may be chosen.
  if (headers.has('sec-websocket-extensions')) return 'the server chose an extension';
  return undefined;
}

export async function connectWsClients(o: WsClientsOptions): Promise<WsClients> {
  const probe = o.probe ?? stampedProbe;
  const histogram = new LatencyHistogram();
  const into: Probe = { stamp: NaN, seq: -1 };
  let delivered = 0;
  let firstSeq = 0;
  let duplicates = 0;
  let stale = 0;
  let unnumbered = 0;
  let protocolErrors = 0;
  let closed = 0;
  const receipts: Receipts[] = [];
  /** Distinct sequence numbers of the window each client got. */
  const unique = new Uint32Array(o.count);
  const sockets: net.Socket[] = [];
  const shared = Buffer.allocUnsafe(64 * 1024);

  /** Reads every whole frame of buf[from, end); returns where the unread rest starts. */
  function readFrames(i: number, socket: net.Socket, buf: Buffer, from: number, end: number, receivedAt: number): number {
    let at = from;
    while (end - at >= 2) {
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (end - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (end - at < 10) break;
        len = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
        head = 10;
      }
      if (end - at < head + len) break;
      const start = at + head;
      const stop = start + len;
      at = stop;
      const opcode = b0 & 0x0f;
      // Server frames are unmasked, unfragmented here (neither server fragments) and use no extension.
      if ((b1 & 0x80) !== 0 || (b0 & 0x70) !== 0 || (b0 & 0x80) === 0 || opcode === OP.continuation) {
        protocolErrors++;
        socket.destroy();
        return end;
      }
      if (opcode === OP.text || opcode === OP.binary) {
        delivered++;
        probe(buf, start, stop, into);
        if (into.seq >= 0) {
          const rel = into.seq - firstSeq;
          if (rel < 0) {
            stale++;
            continue;
          }
          if (!receipts[i]!.mark(rel)) {
            duplicates++;
            continue;
          }
          unique[i]! += 1;
        } else unnumbered++;
        if (!Number.isNaN(into.stamp)) histogram.record(receivedAt - into.stamp);
      } else if (opcode === OP.ping) {
        socket.write(clientFrame(OP.pong, buf.subarray(start, stop)));
      } else if (opcode === OP.close) {
        socket.end(clientFrame(OP.close, buf.subarray(start, Math.min(stop, start + 2))));
      }
    }
    return at;
  }

  const open = (i: number): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const url = new URL(o.urlFor(i));
      if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) return reject(new Error(`ws clients connect to loopback only, got ${url.hostname}`));
      const key = randomBytes(16).toString('base64');
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      const socket = net.connect({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 80),
        ...(o.localAddress ? { localAddress: o.localAddress(i) } : {}),
        noDelay: true,
        // Reads land in one buffer all clients share and are handled at once: no Buffer and no
        // stream 'data' event per read.
        onread: { buffer: shared, callback: (n: number) => onRead(shared, n) },
      });
      const timer = setTimeout(() => fail(new Error(`ws handshake of client ${i} timed out`)), o.connectTimeoutMs ?? 10_000);
      let upgraded = false;
      let rest: Buffer | undefined;
      function fail(err: Error): void {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
      socket.once('error', (err) => (upgraded ? undefined : fail(err)));
      socket.on('close', () => {
        if (upgraded) closed++;
        else fail(new Error(`client ${i}: connection closed during the handshake`));
      });
      socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      /** Always true: returning false would pause the socket. */
      function onRead(chunk: Buffer, n: number): boolean {
        let buf = chunk;
        let end = n;
        if (rest) {
          buf = Buffer.concat([rest, chunk.subarray(0, n)]);
          end = buf.length;
          rest = undefined;
        }
        let from = 0;
        if (!upgraded) {
          const headEnd = buf.subarray(0, end).indexOf('\r\n\r\n');
          if (headEnd < 0) {
            rest = Buffer.from(buf.subarray(0, end));
            return true;
          }
          const refusal = handshakeProblem(buf.toString('latin1', 0, headEnd), accept);
          if (refusal) {
            fail(new Error(`client ${i}: ${refusal}`));
            return true;
          }
          upgraded = true;
          clearTimeout(timer);
          socket.on('error', () => undefined);
          resolve(socket);
          from = headEnd + 4;
        }
        const read = readFrames(i, socket, buf, from, end, stampMs());
        // A copy: the shared buffer takes the next read, whichever socket it comes from.
        if (read < end) rest = Buffer.from(buf.subarray(read, end));
        return true;
      }
    });

  const parallel = o.parallel ?? 100;
  try {
    for (let i = 0; i < o.count; i += parallel) {
      const batch = await Promise.all(Array.from({ length: Math.min(parallel, o.count - i) }, (_, k) => open(i + k)));
      sockets.push(...batch);
    }
  } catch (err) {
    for (const s of sockets) s.destroy();
    throw err;
  }
  for (let i = 0; i < o.count; i++) receipts.push(new Receipts());

  return {
    sockets,
    get delivered() {
      return delivered;
    },
    histogram,
    reset(first = 0) {
      delivered = 0;
      firstSeq = first;
      duplicates = stale = unnumbered = protocolErrors = closed = 0;
      unique.fill(0);
      for (const r of receipts) r.clear();
      histogram.reset();
    },
    async settle(n, timeoutMs = 10_000, quietMs = 500) {
      const until = performance.now() + timeoutMs;
      let last = delivered;
      let lastChange = performance.now();
      while (delivered < n && performance.now() < until && performance.now() - lastChange < quietMs) {
        await sleep(20);
        if (delivered !== last) {
          last = delivered;
          lastChange = performance.now();
        }
      }
    },
    audit(expected) {
      let missing = 0;
      let unexpected = 0;
      for (let i = 0; i < o.count; i++) {
        let matched = 0;
        for (const seq of expected(i)) {
          if (receipts[i]!.has(seq - firstSeq)) matched++;
          else missing++;
        }
        unexpected += unique[i]! - matched;
      }
      return { missing, duplicates, unexpected, stale, unnumbered, protocolErrors, closed };
    },
    freeze(i) {
      sockets[i]!.pause();
    },
    async close() {
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.destroyed) return resolve();
              socket.once('close', () => resolve());
              socket.end(clientFrame(OP.close, Buffer.from([0x03, 0xe8])));
              // A server that never closes its side must not hold the run.
              setTimeout(() => {
                socket.destroy();
                resolve();
              }, 2_000).unref();
            }),
        ),
      );
    },
  };
}
