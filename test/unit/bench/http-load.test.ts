import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runHttpLoad, runHttpLoadAtRate } from '../../../scripts/bench/lib/http-load.ts';

describe('bench HTTP load generator', () => {
  let server: http.Server;
  let url: string;
  let seen: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
        if (req.url === '/teapot') return void res.writeHead(418).end('no');
        // Chunked on purpose: write() without a Content-Length.
        if (req.url?.startsWith('/chunked')) {
          res.write('he');
          return void res.end('llo');
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => (seen = []));
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  for (const engine of ['raw', 'node'] as const) {
    it(`${engine}: closed loop counts responses, statuses and bodies`, async () => {
      const bodies = new Set<string>();
      let n = 0;
      const r = await runHttpLoad({
        url: `${url}/chunked`,
        engine,
        connections: 4,
        durationMs: 300,
        body: () => `{"n":${++n}}`,
        onResponse: (status, body) => bodies.add(`${status} ${body.toString()}`),
      });
      expect(r.requests).to.be.above(10);
      expect(r.ok).to.equal(r.requests);
      expect(r.errors).to.equal(0);
      expect(r.statusCounts).to.deep.equal({ 200: r.requests });
      expect([...bodies]).to.deep.equal(['200 hello']);
      expect(r.latency.count).to.equal(r.requests);
      expect(r.rps).to.be.closeTo(r.ok / 0.3, 1);
      expect(seen[0]).to.match(/^POST \/chunked \{"n":\d+\}$/);
    });
  }

  it('does not count non-2xx answers as throughput', async () => {
    const r = await runHttpLoad({ url: `${url}/teapot`, connections: 2, durationMs: 200 });
    expect(r.requests).to.be.above(0);
    expect(r.ok).to.equal(0);
    expect(r.rps).to.equal(0);
    expect(r.statusCounts).to.deep.equal({ 418: r.requests });
  });

  it('varies the path per request', async () => {
    let i = 0;
    await runHttpLoad({ url, path: () => `/room/${i++ % 3}`, connections: 1, durationMs: 100 });
    expect(new Set(seen.map((s) => s.split(' ')[1]))).to.deep.equal(new Set(['/room/0', '/room/1', '/room/2']));
  });

  it('open loop holds the requested rate', async () => {
    const r = await runHttpLoadAtRate({ url, connections: 8, rate: 500, durationMs: 1_000 });
    expect(r.targetRate).to.equal(500);
    expect(r.ok).to.be.within(450, 501);
    expect(r.skipped).to.equal(0);
    expect(r.errors).to.equal(0);
  });

  it('counts a refused connection as an error without spinning', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const r = await runHttpLoad({ url: `http://127.0.0.1:${port}/`, connections: 2, durationMs: 200 });
    expect(r.ok).to.equal(0);
    expect(r.errors).to.be.within(2, 60);
  });

  it('refuses to load anything but loopback', async () => {
    let err: unknown;
    try {
      await runHttpLoad({ url: 'http://example.com/', connections: 1, durationMs: 10 });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain('loopback');
  });
});
