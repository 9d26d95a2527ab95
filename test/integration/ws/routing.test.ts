import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import type { ChatEvent } from '../../../src/domain/chat/chatEvent.ts';
import { chatEvent, publishEvent, wsUrl, type Frame } from './clients.ts';

/**
 * A client that reconnects with since=<last event id it got>. It keeps one log of event ids over
 * all its connections and ignores a connection's frames from the moment it decides to drop it.
 */
class Viewer {
  readonly log: string[] = [];
  refetches = 0;
  readonly trace: string[] = [];
  reconnects = 0;
  private ws: WebSocket | undefined;

  constructor(
    readonly name: string,
    readonly sub: string,
    readonly room: string,
    private readonly token: string,
    private readonly baseUrl: string,
  ) {}

  async connect(): Promise<void> {
    const since = this.log.at(-1);
    // Half the reconnects carry the token as a subprotocol, the way browsers do.
    const viaProtocol = this.reconnects % 2 === 1;
    const url = wsUrl(this.baseUrl, { room: this.room, since, token: viaProtocol ? undefined : this.token });
    const ws = new WebSocket(url, viaProtocol ? [`bearer.${this.token}`] : [], { perMessageDeflate: false });
    this.ws = ws;
    let failure: Error | undefined;
    ws.on('error', (err) => (failure ??= err));
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        if (this.ws !== ws) return;
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.type === 'welcome') resolve();
        else if (frame.type === 'refetch') this.refetches++;
        else if (frame.event_id) {
          this.log.push(frame.event_id);
          this.trace.push(`${this.reconnects}${viaProtocol ? 'p' : 'q'}:${since ?? '-'}`);
        }
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`${this.name} refused with ${res.statusCode}`)));
      ws.once('close', () => reject(new Error(`${this.name} closed before welcome: ${failure?.message}`)));
    });
  }

  /** Drops the connection (abruptly or politely) and reconnects with since. */
  private reconnecting: Promise<void> | undefined;

  reconnect(abrupt: boolean): Promise<void> {
    if (this.log.length === 0) return Promise.resolve();
    this.reconnecting ??= this.dropAndConnect(abrupt).finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private async dropAndConnect(abrupt: boolean): Promise<void> {
    const old = this.ws!;
    this.ws = undefined;
    if (abrupt) old.terminate();
    else old.close();
    this.reconnects++;
    await this.connect();
  }

  close(): void {
    this.ws?.terminate();
  }
}

describe('ws routing: public to the room, private to sender and owner, exactly once across reconnects', function () {
  this.timeout(120_000);
  let app: TestConveyor;
  let redis: Redis;
  let viewers: Viewer[] = [];

  before(async () => {
    app = await startConveyor({ roles: ['api', 'ws'], extensions: [wsExtension()] });
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });
  after(async () => {
    for (const v of viewers) v.close();
    redis.disconnect();
    await app.stop();
  });

  it('delivers 1,000 mixed public and private events with random reconnects', async () => {
    const roomA = randomUUID();
    const roomB = randomUUID();
    const make = async (name: string, sub: string, role: 'client' | 'model', room: string) =>
      new Viewer(name, sub, room, await app.token({ sub, role }), app.url);
    viewers = [
      await make('owner', roomA, 'model', roomA),
      await make('v1', randomUUID(), 'client', roomA),
      await make('v2', randomUUID(), 'client', roomA),
      await make('v3', randomUUID(), 'client', roomA),
      await make('elsewhere', randomUUID(), 'client', roomB),
    ];
    await Promise.all(viewers.map((v) => v.connect()));
    const byRoom = { [roomA]: viewers.slice(0, 4), [roomB]: viewers.slice(4) };
    const outsider = randomUUID();

    // A seeded generator keeps a failure reproducible.
    let seed = 20_261_121;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;

    const published: ChatEvent[] = [];
    const ROUNDS = 50;
    const PER_ROUND = 20;
    for (let round = 0; round < ROUNDS; round++) {
      const drops = new Map<number, Viewer>([[Math.floor(random() * PER_ROUND), pick(viewers)], [Math.floor(random() * PER_ROUND), pick(viewers)]]);
      const reconnecting: Promise<void>[] = [];
      for (let i = 0; i < PER_ROUND; i++) {
        const dropping = drops.get(i);
        if (dropping) reconnecting.push(dropping.reconnect(random() < 0.5));
        const room = random() < 0.9 ? roomA : roomB;
        const isPrivate = random() < 0.4;
        const sender = pick([...byRoom[room]!.map((v) => v.sub), outsider]);
        const event = chatEvent(room, {
          type: pick(['message', 'message', 'donate', 'change_sponsor', 'goal_progress'] as const),
          audience: isPrivate ? [...new Set([sender, room])] : null,
          data: { n: published.length, sender: { uuid: sender } },
        });
        published.push(event);
        await publishEvent(redis, app.prefix, event);
      }
      // History keeps 200 events; a reconnect always finishes within a round of 20.
      await Promise.all(reconnecting);
    }

    const expectedFor = (v: Viewer) => published.filter((e) => e.room === v.room && (e.audience === null || e.audience.includes(v.sub))).map((e) => e.event_id);
    await waitFor(() => viewers.every((v) => v.log.length >= expectedFor(v).length), { timeoutMs: 30_000, what: 'every viewer to catch up' });
    await new Promise((r) => setTimeout(r, 300));

    const privateIds = new Map(published.filter((e) => e.audience).map((e) => [e.event_id, e.audience!]));
    for (const v of viewers) {
      const leaked = v.log.filter((id) => privateIds.has(id) && !privateIds.get(id)!.includes(v.sub));
      expect(leaked, `${v.name} got private events meant for others`).to.deep.equal([]);
      expect(v.refetches, `${v.name} was told to refetch`).to.equal(0);
      // Exactly once and in publish order, across all its connections.
      const expected = expectedFor(v);
      const at = v.log.findIndex((id, i) => id !== expected[i]);
      const where = at < 0 ? '' : ` (first difference at ${at}: got #${published.findIndex((e) => e.event_id === v.log[at])} on connection ${v.trace[at]}, expected #${published.findIndex((e) => e.event_id === expected[at])})`;
      expect(v.log, `${v.name}'s events${where}`).to.deep.equal(expected);
    }
    const totalReconnects = viewers.reduce((n, v) => n + v.reconnects, 0);
    expect(totalReconnects).to.be.greaterThan(50);
    expect(published.filter((e) => e.audience).length).to.be.within(300, 500);
    // Every viewer in room A saw its share of private events: the owner all of room A's.
    expect(expectedFor(viewers[0]!).length).to.equal(published.filter((e) => e.room === roomA).length);
  });
});
