import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';

const SEEN = '/4.0/mark-notify/v1/seen';

describe('routing: exact paths go straight to their route, the rest through the router', function () {
  this.timeout(20_000);
  let app: TestConveyor;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    app = await startConveyor({
      integrations: parseIntegrations({ banners: { delivery: 'topic', topic: 'banners.seen' } }),
      log: pino({ level: 'info' }, sink),
    });
  });
  after(() => app.stop());

  it('logs each request with its request id, route and status', async () => {
    const res = await app.post(SEEN, { tag: 'banners', id: 'logged' }, { 'x-request-id': 'log-me-1' });
    expect(res.status).to.equal(200);
    const line = lines.find((l) => l.request_id === 'log-me-1' && l.msg === 'request');
    expect(line).to.include({ method: 'POST', route: SEEN, status: 200 });
  });

  it('counts a request under its route in /metrics', async () => {
    await app.post(SEEN, { tag: 'banners', id: 'counted' });
    const metrics = await app.get('/metrics');
    expect(metrics.body).to.match(new RegExp(`conveyor_http_requests_total\\{method="POST",route="${SEEN}",status="200"\\} [1-9]`));
  });

  it('leaves other methods, spellings and parameters to the router', async () => {
    const put = await fetch(app.url + SEEN, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(put.status).to.equal(405);
    expect(put.headers.get('allow')).to.include('POST');
    const slash = await app.post(`${SEEN}/`, { tag: 'banners', id: 'trailing' });
    expect(slash.status).to.equal(200);
    const head = await fetch(`${app.url}/healthz`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    const unknown = await app.get('/4.0/mark-notify/v1/nope');
    expect(unknown.status).to.equal(404);
  });

  it('still serves the chat page and keeps the board and the dead letters behind HTTP Basic', async () => {
    const page = await fetch(`${app.url}/chat/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect((await app.get('/admin/queues')).status).to.equal(401);
    expect((await app.get('/admin/dead-letters')).status).to.equal(401);
    expect((await app.post('/admin/dead-letters/1/replay', {})).status).to.equal(401);
    // The chat API beside the page still answers as the API: a POST without a token is refused.
    const donate = await app.post('/chat/donat/add', { room: 'r', sum: '1' });
    expect(donate.status).to.equal(401);
    expect(donate.body).to.include({ success: false });
  });
});
