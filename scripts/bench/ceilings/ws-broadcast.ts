/**
 * Ceiling: a plain `ws` server that broadcasts each message to every client of a room, one
 * `send` per client, nothing else (no auth, no pub/sub, no batching).
 * Usage: ws-broadcast.ts [--rooms 10] [--port 0]
 *  - clients connect to ws://127.0.0.1:<port>/?room=r<k>
 *  - POST /publish?room=r<k> (or room=*) broadcasts the request body verbatim
 *  - command `timer` {rate, durationMs, bytes?} publishes stamped messages itself, rooms in turn
 *  - command `stats` → {clients, published, sent}
 * Prints READY {"port","rooms"}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseArgs } from '../lib/args.ts';
import { serveChild } from '../lib/child.ts';
import { stampedMessage } from '../lib/ws-clients.ts';

const args = parseArgs(process.argv.slice(2), { name: 'ws-broadcast' });
const roomCount = args.num('rooms', 10);
const rooms = new Map<string, Set<WebSocket>>();
for (let k = 0; k < roomCount; k++) rooms.set(`r${k}`, new Set());
let published = 0;
let sent = 0;

function broadcast(room: string, payload: Buffer | string): number {
  const targets = room === '*' ? [...rooms.values()] : [rooms.get(room)];
  let n = 0;
  for (const set of targets) {
    for (const ws of set ?? []) {
      ws.send(payload, { binary: false });
      n++;
    }
  }
  published++;
  sent += n;
  return n;
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'POST' || url.pathname !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const n = broadcast(url.searchParams.get('room') ?? '*', Buffer.concat(chunks));
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"sent":${n}}`);
  });
});

server.on('upgrade', (req, socket, head) => {
  const room = new URL(req.url ?? '/', 'http://localhost').searchParams.get('room') ?? '';
  const set = rooms.get(room);
  if (!set) {
    socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    set.add(ws);
    ws.on('close', () => set.delete(ws));
    ws.on('error', () => set.delete(ws));
  });
});

/** Publishes at `rate` per second for `durationMs`, catching up on late timer ticks. */
async function timer(data: unknown): Promise<{ published: number }> {
  const { rate, durationMs, bytes = 200 } = data as { rate: number; durationMs: number; bytes?: number };
  const names = [...rooms.keys()];
  const start = performance.now();
  const endAt = start + Math.min(durationMs, 600_000);
  let i = 0;
  while (performance.now() < endAt) {
    const now = performance.now();
    while (start + i * (1000 / rate) <= now) {
      broadcast(names[i % names.length]!, stampedMessage(bytes));
      i++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { published: i };
}

const child = serveChild({
  commands: {
    stats: () => ({ clients: [...rooms.values()].reduce((a, s) => a + s.size, 0), published, sent }),
    timer,
  },
  stop: async () => {
    for (const set of rooms.values()) for (const ws of set) ws.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
server.listen(args.num('port', 0), '127.0.0.1', () => child.ready({ port: (server.address() as AddressInfo).port, rooms: roomCount }));
