import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { WebSocket, type ClientOptions } from 'ws';
import { HISTORY_KEEP, historyKey, roomChannel, type ChatEvent, type ChatEventType, type WireEvent } from '../../../src/domain/chat/chatEvent.ts';
import { waitFor } from '../../helpers/wait.ts';

export interface Frame extends Omit<Partial<WireEvent>, 'type'> {
  type: string;
  connection_id?: string;
}

export function wsUrl(httpUrl: string, query: Record<string, string | undefined>): string {
  const url = new URL('/ws', httpUrl.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** A real ws client that records every frame it gets and how it was closed. */
export class TestSocket {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    ws.on('error', () => undefined);
  }

  /** Opens and waits for the welcome frame. */
  static async open(url: string, protocols?: string[], options: ClientOptions = {}): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(url, protocols, { perMessageDeflate: false, ...options }));
    await new Promise<void>((resolve, reject) => {
      socket.ws.once('open', () => resolve());
      socket.ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      socket.ws.once('error', reject);
    });
    await waitFor(() => socket.frames.length > 0, { what: 'welcome' });
    if (socket.frames[0]!.type !== 'welcome') throw new Error(`first frame was ${JSON.stringify(socket.frames[0])}`);
    return socket;
  }

  get connectionId(): string {
    return this.frames[0]!.connection_id!;
  }

  /** Chat events received (everything but welcome, pong and refetch). */
  get events(): Frame[] {
    return this.frames.filter((f) => f.event_id !== undefined);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 2_000))]);
    this.ws.terminate();
  }
}

/** Connects and expects the upgrade to be refused; returns the HTTP status and JSON body. */
export async function refusal(url: string, protocols?: string[], options: ClientOptions = {}): Promise<{ status: number; body: { code?: string } }> {
  const ws = new WebSocket(url, protocols, options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body = {};
        try {
          body = JSON.parse(text) as object;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.once('error', reject);
  });
}

export function chatEvent(room: string, opts: { type?: ChatEventType; audience?: string[] | null; data?: Record<string, unknown> } = {}): ChatEvent {
  return {
    type: opts.type ?? 'message',
    event_id: randomUUID(),
    room,
    at: new Date().toISOString(),
    data: opts.data ?? { message: 'hello' },
    audience: opts.audience ?? null,
  };
}

/** Stores and publishes an event the way chatEvent.ts documents (history first, then PUBLISH), atomically. */
export async function publishEvent(redis: Redis, prefix: string, event: ChatEvent): Promise<void> {
  const json = JSON.stringify(event);
  await redis
    .multi()
    .lpush(historyKey(prefix, event.room), json)
    .ltrim(historyKey(prefix, event.room), 0, HISTORY_KEEP - 1)
    .publish(roomChannel(prefix, event.room), json)
    .exec();
}
