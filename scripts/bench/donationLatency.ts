/**
 * A donation's latency at a steady rate (bench:donations' last e2e phase): donations sent open-loop
 * at a fixed rate (half the measured maximum, or --latency-rate), each timed from the request to
 * three points: the API's 201 (accepted), the room's `donate` event on Redis pub/sub (completed:
 * TransferMoney moved the money and committed the event), and the frame on a WebSocket joined to
 * the room (what a browser sees).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import WebSocket from 'ws';
import { signToken } from '../../src/http/auth/jwt.ts';
import { RawHttpPool, requestBytes } from './lib/raw-http.ts';
import { startPhase } from './lib/progress.ts';
import { LatencyHistogram, type LatencySummary } from './lib/stats.ts';

export interface LatencyFigure {
  rate: number;
  sent: number;
  /** Donations whose three points all arrived within the run. */
  seen: number;
  accepted: LatencySummary;
  completed: LatencySummary;
  frame: LatencySummary;
  /** The run's window, for the outbox's stage times over it. */
  from: Date;
  to: Date;
}

interface Sender {
  auth: string;
}

interface Timing {
  sent: number;
  accepted?: number;
  completed?: number;
  frame?: number;
}

/** The donation id of a `donate` event, wherever the frame or message nests it. */
function donateId(text: string): string | null {
  if (!text.includes('"donate"')) return null;
  const event = JSON.parse(text) as { type?: string; data?: { donation_id?: string }; event?: { type?: string; data?: { donation_id?: string } } };
  const e = event.type === 'donate' ? event : event.event?.type === 'donate' ? event.event : null;
  return e?.data?.donation_id ?? null;
}

export async function latencyAtRate(opts: {
  port: number;
  prefix: string;
  subscriber: Redis;
  jwtSecret: string;
  senders: Sender[];
  rooms: { uuid: string }[];
  rate: number;
  durationMs: number;
}): Promise<LatencyFigure> {
  const { port, rate, durationMs } = opts;
  const rooms = opts.rooms.slice(0, 20);
  const timings = new Map<string, Timing>();
  const early = new Map<string, { completed?: number; frame?: number }>();
  const mark = (id: string, point: 'completed' | 'frame') => {
    const at = performance.now();
    const t = timings.get(id);
    if (t) t[point] ??= at;
    else early.set(id, { ...early.get(id), [point]: at });
  };

  const onMessage = (_pattern: string, _channel: string, message: string) => {
    const id = donateId(message);
    if (id) mark(id, 'completed');
  };
  opts.subscriber.on('pmessage', onMessage);
  await opts.subscriber.psubscribe(`${opts.prefix}:chat:room:*`);

  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sockets = await Promise.all(
    rooms.map(async (room) => {
      const token = await signToken(opts.jwtSecret, { sub: randomUUID(), role: 'client', exp });
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?room=${room.uuid}&token=${token}`);
      ws.on('message', (data) => {
        const id = donateId(data.toString());
        if (id) mark(id, 'frame');
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return ws;
    }),
  );

  const pool = new RawHttpPool({ host: '127.0.0.1', port, method: 'POST', connections: 64, timeoutMs: 30_000 });
  const gapMs = 1000 / rate;
  const t0 = performance.now();
  let sent = 0;
  const from = new Date();
  const bar = startPhase(`latency at ${rate.toFixed(0)} donations/s`, { totalMs: durationMs, counter: () => sent, unit: 'sent' });
  const requests: Promise<void>[] = [];
  while (performance.now() - t0 < durationMs) {
    // Open loop: the next donation leaves on schedule, whether or not the earlier ones are done.
    const due = t0 + sent * gapMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const sender = opts.senders[sent % opts.senders.length]!;
    const room = rooms[sent % rooms.length]!;
    sent++;
    const body = JSON.stringify({ room: room.uuid, sum: '1.00' });
    const at = performance.now();
    requests.push(
      pool
        .request(requestBytes('POST', '/chat/donat/add', `127.0.0.1:${port}`, `authorization: ${sender.auth}\r\ncontent-type: application/json\r\n`, body))
        .then((res) => {
          if (res.status !== 201) return;
          const id = (JSON.parse(res.body.toString('utf8')) as { donation_id: string }).donation_id;
          timings.set(id, { sent: at, accepted: performance.now(), ...early.get(id) });
          early.delete(id);
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(requests);
  // The last donations' events: a few seconds at most.
  const settleBy = performance.now() + 5_000;
  while (performance.now() < settleBy && [...timings.values()].some((t) => t.frame === undefined)) await new Promise((resolve) => setTimeout(resolve, 50));
  bar.done();

  pool.close();
  for (const ws of sockets) ws.close();
  await opts.subscriber.punsubscribe();
  opts.subscriber.off('pmessage', onMessage);

  const accepted = new LatencyHistogram();
  const completed = new LatencyHistogram();
  const frame = new LatencyHistogram();
  let seen = 0;
  for (const t of timings.values()) {
    if (t.accepted === undefined || t.completed === undefined || t.frame === undefined) continue;
    seen++;
    accepted.record(t.accepted - t.sent);
    completed.record(t.completed - t.sent);
    frame.record(t.frame - t.sent);
  }
  return { rate, sent, seen, accepted: accepted.summary(), completed: completed.summary(), frame: frame.summary(), from, to: new Date() };
}
