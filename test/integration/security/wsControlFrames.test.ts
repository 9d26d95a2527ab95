import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { loadConfig, ConfigError } from '../../../src/config.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import { TestSocket, wsUrl } from '../ws/clients.ts';

const rawSocket = (socket: TestSocket) => (socket.ws as unknown as { _socket: Socket })._socket;

async function drops(app: TestConveyor, reason: string): Promise<number> {
  const metric = await app.running.services.metrics.registry.getSingleMetric('conveyor_ws_drops_total')!.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('security: WebSocket control frames are limited like everything else', function () {
  this.timeout(60_000);
  let app: TestConveyor;

  before(async () => {
    app = await startConveyor({
      roles: ['api', 'ws'],
      extensions: [wsExtension()],
      env: { WS_PINGS_PER_MINUTE: '20', WS_MAX_BUFFERED_BYTES: '4096', WS_CLOSE_GRACE: '30s' },
    });
  });
  after(async () => app.stop());

  const open = async () => TestSocket.open(wsUrl(app.url, { room: randomUUID(), token: await app.token({ sub: randomUUID(), role: 'client' }) }));

  it('answers ping frames and {"type":"ping"} within the limit, and closes a socket that floods ping frames with 1008', async () => {
    const socket = await open();
    let pongs = 0;
    socket.ws.on('pong', () => pongs++);
    for (let i = 0; i < 5; i++) socket.ws.ping();
    socket.ws.send('{"type":"ping"}');
    await waitFor(() => pongs === 5 && socket.frames.some((f) => f.type === 'pong'), { what: 'pongs' });
    const before = await drops(app, 'ping_flood');
    for (let i = 0; i < 1_000; i++) socket.ws.ping('x');
    expect(await socket.closed).to.equal(1008);
    // 14 pings were left in the minute's allowance: the rest got no answer.
    expect(pongs).to.be.at.most(5 + 15);
    expect(await drops(app, 'ping_flood')).to.equal(before + 1);
  });

  it('counts {"type":"ping"} messages against the same limit', async () => {
    const socket = await open();
    for (let i = 0; i < 200; i++) socket.ws.send('{"type":"ping"}');
    expect(await socket.closed).to.equal(1008);
    expect(socket.frames.filter((f) => f.type === 'pong').length).to.be.at.most(20);
  });
});

describe('security: pongs respect the per-socket buffer cap', function () {
  this.timeout(90_000);
  let app: TestConveyor;

  before(async () => {
    app = await startConveyor({
      roles: ['api', 'ws'],
      extensions: [wsExtension()],
      // Pings are allowed freely here: what is tested is the answers piling up unread.
      env: { WS_PINGS_PER_MINUTE: '100000', WS_MAX_BUFFERED_BYTES: '4096', WS_CLOSE_GRACE: '30s' },
    });
  });
  after(async () => app.stop());

  it('closes with 1013 a socket that sends ping frames and never reads the pongs', async () => {
    const socket = await TestSocket.open(wsUrl(app.url, { room: randomUUID(), token: await app.token({ sub: randomUUID(), role: 'client' }) }));
    const before = await drops(app, 'slow_consumer');
    rawSocket(socket).pause();
    // 125-byte payloads (the most a control frame carries): every pong the server writes is as large.
    const payload = Buffer.alloc(125, 0x61);
    // Enough answers to fill the kernel's buffers on both sides of the loopback, and then the cap.
    for (let round = 0; round < 40 && (await drops(app, 'slow_consumer')) === before; round++) {
      for (let i = 0; i < 5_000; i++) socket.ws.ping(payload);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor(async () => (await drops(app, 'slow_consumer')) === before + 1, { what: 'the server to drop the socket', timeoutMs: 20_000 });
    rawSocket(socket).resume();
    expect(await socket.closed).to.equal(1013);
  });
});

describe('security: WS_ORIGINS in production', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-board-password' };

  it('refuses to start without it, and starts with it', () => {
    expect(() => loadConfig(production)).to.throw(ConfigError, /WS_ORIGINS is required in production/);
    expect(() => loadConfig({ ...production, WS_ORIGINS: ' ' })).to.throw(ConfigError, /WS_ORIGINS/);
    expect(loadConfig({ ...production, WS_ORIGINS: 'https://chat.example' }).ws.origins).to.deep.equal(['https://chat.example']);
    // Development keeps allowing any origin.
    expect(loadConfig({}).ws.origins).to.deep.equal([]);
  });
});
