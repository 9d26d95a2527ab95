/**
 * Bounded mixed traffic against the api processes, recording every answer on the client side:
 * donations (some without funds) with Idempotency-Keys, retried with the same key on the other
 * api after a network error or a 5xx; public and private messages; seen facts for a local HTTP
 * consumer; bonus events. Invalid requests come from one actor that must leave nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { signToken } from '../../src/http/auth/jwt.ts';
import type { TokenRole } from '../../src/http/auth/claims.ts';
import { JWT_SECRET } from './deployment.ts';
import { sleep } from './infra.ts';

export interface Actor {
  uuid: string;
  token: string;
}

export type Kind = 'donation' | 'message' | 'seen' | 'bonus' | 'invalid';

export interface Attempt {
  kind: Kind;
  key: string;
  /** The last HTTP status, or 0 when the last try ended in a network error. */
  status: number;
  body: Record<string, unknown> | undefined;
  tries: number;
  sender?: string;
  /** The mark-notify tag of a seen fact. */
  tag?: string;
  /** Answers of earlier tries, to check a retried key answers the same. */
  answers: string[];
  /** When the first try was sent (ms since the epoch). */
  sentAt: number;
}

export const actor = async (role: TokenRole, extra: Record<string, unknown> = {}): Promise<Actor> => {
  const uuid = randomUUID();
  return { uuid, token: await signToken(JWT_SECRET, { sub: uuid, role, ...extra }, 86_400) };
};

export class Traffic {
  readonly attempts: Attempt[] = [];
  admin!: Actor;
  service!: Actor;
  rooms: Actor[] = [];
  clients: Actor[] = [];
  /** Sends only invalid requests: NOWRITE checks it owns no row anywhere. */
  vandal!: Actor;
  /**
   * When Redis came back empty after a scenario wiped it (ms since the epoch). Seen facts live in
   * Redis only (DESIGN.md: production Redis runs with AOF), so one not delivered before a wipe may
   * be gone with it; ACKED reports those apart and holds every fact sent after the wipe.
   */
  readonly redisWipes: number[] = [];
  private turn = 0;

  constructor(private readonly apis: () => string[]) {}

  private api(offset = 0): string {
    const urls = this.apis();
    return urls[(this.turn + offset) % urls.length]!;
  }

  async call(method: string, path: string, who: Actor | undefined, body: unknown, headers: Record<string, string> = {}, offset = 0, timeoutMs = 15_000): Promise<{ status: number; body: Record<string, unknown> | undefined; text: string }> {
    try {
      const res = await fetch(this.api(offset) + path, {
        method,
        headers: { 'content-type': 'application/json', ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text };
    } catch {
      return { status: 0, body: undefined, text: '' };
    }
  }

  async setup(nRooms = 3, nClients = 8): Promise<void> {
    this.admin = await actor('admin');
    this.service = await actor('service');
    this.vandal = await actor('client');
    this.rooms = await Promise.all(Array.from({ length: nRooms }, () => actor('model')));
    this.clients = await Promise.all(Array.from({ length: nClients }, (_, i) => actor('client', { name: `c${i}` })));
    for (const who of [...this.rooms, ...this.clients, this.vandal]) await this.must('GET', '/accounts/me', who, undefined);
    for (const room of this.rooms) await this.must('POST', '/chat/goals', room, { name: 'chaos goal', require_sum: '500.00' });
    await this.topUpAll();
  }

  /** Funds for most clients; the last two stay poor so some donations are rejected. */
  async topUpAll(sum = '40.00'): Promise<void> {
    for (const client of this.clients.slice(0, -2)) {
      await this.must('POST', '/accounts/top-up', this.admin, { user: client.uuid, sum }, { 'idempotency-key': randomUUID() });
    }
  }

  private async must(method: string, path: string, who: Actor, body: unknown, headers: Record<string, string> = {}): Promise<void> {
    for (let i = 0; i < 60; i++) {
      const res = await this.call(method, path, who, body, headers, i);
      if (res.status >= 200 && res.status < 300) return;
      if (res.status >= 400 && res.status < 500) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      await sleep(500);
    }
    throw new Error(`${method} ${path}: no answer`);
  }

  /**
   * Sends one request and retries network errors and 5xx with the same Idempotency-Key on the
   * next api, until `retryForMs` is spent: what a careful client does.
   */
  async send(kind: Kind, path: string, who: Actor | undefined, body: unknown, key: string, retryForMs: number): Promise<Attempt> {
    const attempt: Attempt = { kind, key, status: 0, body: undefined, tries: 0, answers: [], sentAt: Date.now(), ...(who ? { sender: who.uuid } : {}) };
    const tag = (body as { tag?: unknown }).tag;
    if (kind === 'seen' && typeof tag === 'string') attempt.tag = tag;
    this.attempts.push(attempt);
    const started = Date.now();
    for (;;) {
      const res = await this.call('POST', path, who, body, { 'idempotency-key': key }, attempt.tries);
      attempt.tries++;
      attempt.status = res.status;
      attempt.body = res.body;
      if (res.status >= 200 && res.status < 300) attempt.answers.push(res.text);
      const retryable = res.status === 0 || res.status >= 500 || res.status === 429;
      if (!retryable || Date.now() - started > retryForMs) return attempt;
      await sleep(Math.min(2000, 200 * attempt.tries));
    }
  }

  /** One random action; about one in ten is a donation too big for the sender's wallet. */
  async one(retryForMs: number): Promise<Attempt> {
    this.turn++;
    const n = this.turn;
    const room = this.rooms[n % this.rooms.length]!;
    const client = this.clients[(n * 7) % this.clients.length]!;
    const pick = n % 10;
    if (pick < 4) {
      const cents = 100 + ((n * 37) % 400);
      const message = n % 3 === 0 ? { message: { message: `donation note ${n}`, is_public: n % 2 === 0 } } : {};
      return this.send('donation', '/chat/donat/add', client, { room: room.uuid, sum: (cents / 100).toFixed(2), ...message }, `don-${randomUUID()}`, retryForMs);
    }
    if (pick < 7) return this.send('message', '/chat/message/add', client, { room: room.uuid, message: `hello ${n}`, is_public: n % 4 !== 0 }, `msg-${randomUUID()}`, retryForMs);
    if (pick < 8) return this.send('seen', '/4.0/mark-notify/v1/seen', undefined, { tag: n % 20 === 7 ? 'doomed' : 'promotions', id: `promo-${randomUUID()}` }, `seen-${n}`, retryForMs);
    if (pick < 9) return this.bonus(n, retryForMs);
    return this.invalid(n, room);
  }

  private async bonus(n: number, retryForMs: number): Promise<Attempt> {
    const user = `bonus-user-${randomUUID()}`;
    const envelope = (event_name: string, payload: Record<string, unknown>) => ({ event_id: randomUUID(), event_name, event_version: 1, produced_at: new Date().toISOString(), payload });
    const linked = envelope('AccountLinked', { user_id: user, yandex_uid: `ya-${n}` });
    await this.send('bonus', '/events', this.service, linked, linked.event_id, retryForMs);
    const listing = envelope('ListingPublished', { listing_id: `l-${n}`, user_id: user, title: 'A chair', description: 'x'.repeat(120), photos_count: 4, price: 100 });
    return this.send('bonus', '/events', this.service, listing, listing.event_id, retryForMs);
  }

  /** Refused by validation or by rules: must write nothing. */
  private async invalid(n: number, room: Actor): Promise<Attempt> {
    const bodies = [
      { room: room.uuid, sum: '-5.00' },
      { room: room.uuid, sum: '1.234' },
      { room: room.uuid, sum: '2.00', surprise: true },
      { room: room.uuid, sum: '99999999.00' },
    ];
    if (n % 20 === 9) return this.send('invalid', '/chat/message/add', this.vandal, { room: room.uuid, message: '', is_public: true, extra: 1 }, `bad-${randomUUID()}`, 0);
    return this.send('invalid', '/chat/donat/add', this.vandal, bodies[n % bodies.length], `bad-${randomUUID()}`, 0);
  }

  /**
   * Runs `rate` actions a second for `ms`, each retrying for up to `retryForMs`; resolves when
   * every started action has its final answer.
   */
  async run(ms: number, rate: number, retryForMs = 60_000): Promise<Attempt[]> {
    const started = Date.now();
    const mine: Promise<Attempt>[] = [];
    while (Date.now() - started < ms) {
      mine.push(this.one(retryForMs));
      await sleep(1000 / rate);
    }
    return Promise.all(mine);
  }
}
