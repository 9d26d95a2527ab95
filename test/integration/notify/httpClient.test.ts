import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpTimeoutError, postJson } from '../../../src/platform/httpClient.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';

/** The client deliveries go through: one POST per call, its status, its timeout. */
describe('postJson (the delivery HTTP client)', function () {
  this.timeout(10_000);
  let consumer: ConsumerServer;
  let slowBody: Server;
  let slowBodyUrl: string;

  before(async () => {
    consumer = await new ConsumerServer().start();
    // Sends its headers at once and never finishes the body.
    slowBody = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{');
    });
    await new Promise<void>((resolve) => slowBody.listen(0, '127.0.0.1', resolve));
    slowBodyUrl = `http://127.0.0.1:${(slowBody.address() as AddressInfo).port}/v1/seen`;
  });
  after(async () => {
    await consumer.stop();
    slowBody.closeAllConnections();
    await new Promise<void>((resolve) => slowBody.close(() => resolve()));
  });
  beforeEach(() => {
    consumer.received.length = 0;
    consumer.setScript([], 200);
  });

  it('sends the JSON body and headers once and resolves with the status', async () => {
    consumer.setScript([503, 404], 200);
    const url = `${consumer.url}/v1/seen?x=1`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postJson(url, JSON.stringify({ n: i }), { 'idempotency-key': `k-${i}` }, 1_000)).status);
    expect(statuses).to.deep.equal([503, 404, 200]);
    expect(consumer.received.map((r) => [r.method, r.path, r.headers['idempotency-key'], r.headers['content-type'], r.body.n])).to.deep.equal([
      ['POST', '/v1/seen?x=1', 'k-0', 'application/json', 0],
      ['POST', '/v1/seen?x=1', 'k-1', 'application/json', 1],
      ['POST', '/v1/seen?x=1', 'k-2', 'application/json', 2],
    ]);
  });

  it('makes exactly one request per call under concurrency', async () => {
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => postJson(`${consumer.url}/v1/seen`, JSON.stringify({ n: i }), { 'idempotency-key': `c-${i}` }, 5_000)));
    expect(results.every((r) => r.status === 200)).to.equal(true);
    expect(consumer.received).to.have.length(300);
    expect(new Set(consumer.received.map((r) => r.headers['idempotency-key'])).size).to.equal(300);
  });

  it('times out a consumer that never answers, and one that never finishes its body', async () => {
    consumer.setScript(['hang'], 200);
    const started = Date.now();
    const hung = await postJson(`${consumer.url}/v1/seen`, '{}', {}, 200).catch((err: unknown) => err);
    expect(hung).to.be.instanceOf(HttpTimeoutError);
    expect(Date.now() - started).to.be.within(150, 1_000);
    const stalled = await postJson(slowBodyUrl, '{}', {}, 200).catch((err: unknown) => err);
    expect(stalled).to.be.instanceOf(HttpTimeoutError);
  });

  it('rejects on a network error and on a URL it cannot call', async () => {
    const refused = await postJson('http://127.0.0.1:9/v1/seen', '{}', {}, 1_000).catch((err: unknown) => err);
    expect(refused).to.be.instanceOf(Error);
    expect(refused).not.to.be.instanceOf(HttpTimeoutError);
    const ftp = await postJson('ftp://127.0.0.1/x', '{}', {}, 1_000).catch((err: unknown) => err);
    expect((ftp as Error).message).to.match(/unsupported protocol/);
  });
});
