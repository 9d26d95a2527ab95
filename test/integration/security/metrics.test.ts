import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';
const bearer = { authorization: `Bearer ${METRICS_TOKEN}` };
const random = () => randomBytes(6).toString('hex');

/** The value of a sample line, e.g. value(text, 'conveyor_queue_jobs{queue="x",state="waiting"}'). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

describe('security: /metrics — fixed route labels, cached gauges, METRICS_TOKEN', function () {
  this.timeout(60_000);
  let app: TestConveyor;

  before(async () => {
    // api only: no worker takes the jobs this test adds, so the waiting count is what it set up.
    app = await startConveyor({ roles: ['api'], env: { METRICS_TOKEN, METRICS_CACHE: '1500ms' } });
  });
  after(async () => app.stop());

  const scrape = async () => {
    const res = await app.get('/metrics', bearer);
    expect(res.status).to.equal(200);
    return res.body as string;
  };

  it('refuses a scrape without the bearer token with 401, and takes the right one', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${METRICS_TOKEN}x` }, { authorization: `Basic ${METRICS_TOKEN}` }, { authorization: METRICS_TOKEN }];
    for (const headers of refused) {
      const res = await app.get('/metrics', headers);
      expect(res.status, JSON.stringify(headers)).to.equal(401);
      expect(res.body.code).to.equal('unauthorized');
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
    }
    expect(await scrape()).to.include('conveyor_http_requests_total');
    const open = await startConveyor({ roles: ['api'] });
    try {
      expect((await open.get('/metrics')).status).to.equal(200);
    } finally {
      await open.stop();
    }
  });

  it('labels every path no route matched with a fixed label, never the path', async () => {
    const tokens: string[] = [];
    const paths: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = [random(), random(), random(), random()];
      tokens.push(...t);
      paths.push(`/admin${t[0]}`, `/admin${t[1]}/x/y`, `/admin/${t[2]}`, `/${t[3]}/deep/path`, `/chat/${t[0]}.js`, `/4.0/${t[1]}`);
    }
    for (const path of paths) await app.get(path);
    for (const path of paths.slice(0, 6)) await app.post(path, {});
    const text = await scrape();
    for (const t of tokens) expect(text, t).not.to.include(t);
    const routes = new Set([...text.matchAll(/conveyor_http_requests_total\{[^}]*route="([^"]*)"/g)].map((m) => m[1]));
    expect([...routes]).to.include.members(['unmatched', '/admin']);
    for (const route of routes) expect(route, route).to.satisfy((r: string) => r === 'unmatched' || r.startsWith('/'));
    expect(routes.size).to.be.lessThan(10);
  });

  it('computes the queue and outbox gauges once per METRICS_CACHE, one scrape at a time', async () => {
    const refreshes = (text: string) => value(text, 'conveyor_scrape_gauge_refreshes_total');
    // Wait out whatever window earlier scrapes opened.
    await new Promise((r) => setTimeout(r, 1_600));
    const answers = await Promise.all(Array.from({ length: 8 }, () => scrape()));
    const counts = answers.map(refreshes);
    expect(new Set(counts).size, String(counts)).to.equal(1);
    const base = counts[0]!;

    const queue = app.running.services.queues.get('platform.prune');
    const series = `conveyor_queue_jobs{queue="platform.prune",state="waiting"}`;
    const waitingBefore = value(answers[0]!, series);
    await queue.add('platform.prune', {}, { jobId: `metrics-${random()}` });
    // Inside the window: the same figures, not recomputed.
    const cached = await scrape();
    expect(refreshes(cached)).to.equal(base);
    expect(value(cached, series)).to.equal(waitingBefore);
    // After it: recomputed once, and the new job shows.
    await waitFor(async () => refreshes(await scrape()) > base, { timeoutMs: 5_000, intervalMs: 200, what: 'a refresh after METRICS_CACHE' });
    expect(value(await scrape(), series)).to.equal(waitingBefore + 1);
  });
});
