/**
 * Many WebSocket clients in one process, counting deliveries and publish-to-receive latency
 * from a send timestamp embedded in each message.
 */
import { WebSocket, type RawData } from 'ws';
import { LatencyHistogram, nowMs } from './stats.ts';

/** `t=<ms>;` then padding up to `bytes`: the stamp is found without parsing JSON. */
export function stampedMessage(bytes = 200, at = nowMs()): string {
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

export interface WsClientsOptions {
  count: number;
  /** The address of client i, e.g. (i) => `ws://127.0.0.1:${port}/?room=r${i % 10}`. */
  urlFor: (i: number) => string;
  /** Extracts the send time from a message. Default readStamp. */
  timestampOf?: (data: RawData) => number | undefined;
  /** Handshakes in flight at once. Default 100. */
  parallel?: number;
  connectTimeoutMs?: number;
}

export interface WsClients {
  sockets: WebSocket[];
  /** Messages received since the last reset. */
  readonly delivered: number;
  histogram: LatencyHistogram;
  /** Starts a fresh measurement window. */
  reset(): void;
  /** Resolves when `delivered` reaches `n` or stops growing for `quietMs`, or after timeoutMs. */
  settle(n: number, timeoutMs?: number, quietMs?: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function connectWsClients(o: WsClientsOptions): Promise<WsClients> {
  const timestampOf = o.timestampOf ?? readStamp;
  const histogram = new LatencyHistogram();
  let delivered = 0;
  const sockets: WebSocket[] = [];

  const open = (i: number): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const url = o.urlFor(i);
      const host = new URL(url).hostname;
      if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return reject(new Error(`ws clients connect to loopback only, got ${host}`));
      const ws = new WebSocket(url, { handshakeTimeout: o.connectTimeoutMs ?? 10_000, perMessageDeflate: false });
      ws.on('message', (data) => {
        delivered++;
        const t = timestampOf(data);
        if (t !== undefined) histogram.record(nowMs() - t);
      });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });

  const parallel = o.parallel ?? 100;
  try {
    for (let i = 0; i < o.count; i += parallel) {
      const batch = await Promise.all(Array.from({ length: Math.min(parallel, o.count - i) }, (_, k) => open(i + k)));
      sockets.push(...batch);
    }
  } catch (err) {
    for (const ws of sockets) ws.terminate();
    throw err;
  }

  return {
    sockets,
    get delivered() {
      return delivered;
    },
    histogram,
    reset() {
      delivered = 0;
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
    async close() {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.close();
              // A server that never answers the close frame must not hold the run.
              setTimeout(() => {
                ws.terminate();
                resolve();
              }, 2_000).unref();
            }),
        ),
      );
    },
  };
}
