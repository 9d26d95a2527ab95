import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { wsExtension, type WsExtension } from '../../../src/ws/extension.ts';
import { TestSocket, chatEvent, publishEvent, wsUrl } from './clients.ts';
import { textFrame } from '../../../src/ws/protocol.ts';

const MAX_BUFFERED = 256 * 1024;

/** Stops reading from the socket: the kernel buffers fill, then the server's. */
const freeze = (socket: TestSocket) => (socket.ws as unknown as { _socket: Socket })._socket.pause();
const thaw = (socket: TestSocket) => (socket.ws as unknown as { _socket: Socket })._socket.resume();

async function metric(app: TestConveyor, name: string): Promise<string> {
  return app.running.services.metrics.registry.getSingleMetricAsString(name);
}

describe('ws limits: frames, slow consumers, dead peers, shutdown', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let ext: WsExtension;
  let redis: Redis;

  before(async () => {
    ext = wsExtension();
    app = await startConveyor({ roles: ['api', 'ws'], extensions: [ext], env: { WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED), WS_CLOSE_GRACE: '10s' } });
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });
  after(async () => {
    redis.disconnect();
    await app.stop();
  });

  const open = async (room: string) => TestSocket.open(wsUrl(app.url, { room, token: await app.token({ sub: randomUUID(), role: 'client' }) }));

  it('answers {"type":"ping"} with pong and ignores every other client frame', async () => {
    const room = randomUUID();
    const socket = await open(room);
    socket.ws.send('{"type":"message","room":"x","message":"spoofed"}');
    socket.ws.send('not json');
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    socket.ws.send('{"type":"ping"}');
    await waitFor(() => socket.frames.length >= 2);
    await sleep(100);
    expect(socket.frames.map((f) => f.type)).to.deep.equal(['welcome', 'pong']);
    expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
    await socket.close();
  });

  it('frames events of any size the way ws does (7-, 16- and 64-bit lengths)', async () => {
    expect([...textFrame(Buffer.from('hi'))]).to.deep.equal([0x81, 2, 0x68, 0x69]);
    const room = randomUUID();
    const socket = await open(room);
    const sizes = [10, 200, 70_000];
    for (const n of sizes) await publishEvent(redis, app.prefix, chatEvent(room, { data: { pad: 'y'.repeat(n) } }));
    await waitFor(() => socket.events.length === sizes.length);
    expect(socket.events.map((f) => (f.data as { pad: string }).pad.length)).to.deep.equal(sizes);
    await socket.close();
  });

  it('closes with 1009 on a frame over 16 KiB', async () => {
    const socket = await open(randomUUID());
    socket.ws.send('x'.repeat(16 * 1024 + 1));
    expect(await socket.closed).to.equal(1009);
    const ok = await open(randomUUID());
    ok.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(16 * 1024 - 40) }));
    await sleep(200);
    expect(ok.closeCode).to.equal(undefined);
    await ok.close();
    expect(await metric(app, 'conveyor_ws_drops_total')).to.match(/reason="frame_too_large"} 1\b/);
  });

  it('disconnects a client that stops reading with 1013, keeps its buffer bounded and serves the others', async () => {
    const room = randomUUID();
    const frozen = await open(room);
    const reader = await open(room);
    freeze(frozen);
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, ext.server!.stats().maxSocketBufferedBytes)), 5);
    const FRAME = 8 * 1024;
    const N = 2_000;
    // 16 MB in all: more than the kernel buffers of the loopback connection and the server's cap.
    for (let i = 0; i < N; i++) await publishEvent(redis, app.prefix, chatEvent(room, { data: { pad: 'x'.repeat(FRAME) } }));
    await waitFor(async () => /reason="slow_consumer"} 1\b/.test(await metric(app, 'conveyor_ws_drops_total')), { what: 'slow consumer drop' });
    thaw(frozen);
    expect(await frozen.closed).to.equal(1013);
    await waitFor(() => reader.events.length === N, { timeoutMs: 30_000, what: 'the reading client to get everything' });
    clearInterval(sampler);
    expect(maxBuffered).to.be.greaterThan(0);
    // Checked before each write, so one frame may go over the cap; never more.
    expect(maxBuffered).to.be.at.most(MAX_BUFFERED + FRAME + 1024);
    expect(frozen.events.length).to.be.lessThan(N);
    expect(reader.closeCode).to.equal(undefined);
    await reader.close();
  });

  describe('with a short heartbeat', () => {
    let beating: TestConveyor;
    let beatingExt: WsExtension;

    before(async () => {
      beatingExt = wsExtension();
      beating = await startConveyor({ roles: ['api', 'ws'], extensions: [beatingExt], env: { WS_HEARTBEAT: '200ms' } });
    });
    after(async () => beating.stop());

    const openOn = async (room: string) => TestSocket.open(wsUrl(beating.url, { room, token: await beating.token({ sub: randomUUID(), role: 'client' }) }));

    it('cuts a peer that stops answering pings and keeps one that answers', async () => {
      const room = randomUUID();
      const dead = await openOn(room);
      const alive = await openOn(room);
      freeze(dead);
      await waitFor(() => beatingExt.server!.stats().connections === 1, { what: 'the dead peer to be cut' });
      expect(await metric(beating, 'conveyor_ws_drops_total')).to.match(/reason="dead_peer"} 1\b/);
      await sleep(600);
      expect(alive.closeCode).to.equal(undefined);
      await alive.close();
      dead.ws.terminate();
    });

    it('closes every socket with 1001 on shutdown and unsubscribes', async () => {
      const sockets = await Promise.all([openOn(randomUUID()), openOn(randomUUID())]);
      expect(beatingExt.server!.stats().subscriptions).to.equal(2);
      await beating.running.stop();
      expect(await Promise.all(sockets.map((s) => s.closed))).to.deep.equal([1001, 1001]);
      expect(beatingExt.server!.stats().connections).to.equal(0);
    });
  });
});
