import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startConveyor, type TestConveyor } from '../helpers/conveyor.ts';

const CHROMIUM = '/usr/bin/chromium';

describe('API reference at /docs/ in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let app: TestConveyor;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.warn(`  skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
      this.skip();
    }
    app = await startConveyor();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('renders every operation of /openapi.json, loading nothing from another origin', async () => {
    const doc = (await app.get('/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string }>> };
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    const page = await browser.newPage();
    const problems: string[] = [];
    const elsewhere: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(app.url) && !req.url().startsWith('data:')) elsewhere.push(req.url());
    });
    await page.goto(`${app.url}/docs/`);
    await page.locator('.opblock').first().waitFor();
    // Swagger UI gives each operation block the id operations-<tag>-<operationId>.
    const rendered = await page.locator('.opblock').evaluateAll((blocks) => blocks.map((b) => b.id));
    for (const id of ids) expect(rendered.some((r) => r.endsWith(`-${id}`)), `operation ${id} rendered`).to.equal(true);
    expect(await page.locator('.info .title').textContent()).to.include('Conveyor');
    expect(elsewhere).to.deep.equal([]);
    expect(problems).to.deep.equal([]);
    await page.close();
  });

  it('/docs redirects to /docs/', async () => {
    const res = await fetch(`${app.url}/docs`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('/docs/');
  });
});
