import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ManualClock } from '../../src/platform/clock.ts';
import { startPopug, testSettings, type PopugApp } from '../integration/popug/popugApp.ts';

const CHROMIUM = '/usr/bin/chromium';
const DAY = 86_400_000;

describe('popug page in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let app: PopugApp;
  let browser: Browser;
  const problems: string[] = [];
  // Three days of activity: the clock moves a day between them.
  const clock = new ManualClock(Date.parse('2030-06-10T09:00:00Z'));

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.warn(`  skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
      this.skip();
    }
    app = await startPopug({ clock, settings: testSettings(), env: { DEV_TOKENS: 'true' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'] });
    const employees = [await app.user('employee'), await app.user('employee')];
    const manager = await app.user('manager');
    for (let day = 0; day < 3; day++) {
      for (let i = 0; i <= day * 2; i++) {
        const res = await app.createTask(manager.auth, `day ${day} task ${i}`);
        if (i % 2 === 0) await app.post(`/popug/tasks/${res.body.task_id}/complete`, {}, employees.find((e) => e.id === res.body.assignee)!.auth);
      }
      await app.settle();
      if (day < 2) clock.advance(DAY);
    }
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function openAs(role: string, sub: string = randomUUID()): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`${msg.text()} ${msg.location().url}`);
    });
    await page.goto(`${app.url}/popug/`);
    await page.getByTestId('role').selectOption(role);
    await page.getByTestId('sub').fill(sub);
    await page.getByTestId('mint').click();
    await page.getByTestId('whoami').filter({ hasText: role }).waitFor();
    await page.getByTestId('load').click();
    await page.locator('body[data-loaded=true]').waitFor();
    return page;
  }

  it('draws the income chart from the API, with the same figures, using the library served from node_modules', async () => {
    const page = await openAs('accountant');
    const auth = await app.authFor(randomUUID(), 'accountant');
    const dash = (await app.get('/popug/dashboard', auth)).body;
    expect(await page.getByTestId('income').textContent()).to.equal(dash.management_income);
    expect(await page.getByTestId('in-red').textContent()).to.equal(String(dash.employees_in_red));
    const from = new Date(Date.parse(`${dash.day}T00:00:00Z`) - 29 * DAY).toISOString().slice(0, 10);
    const days = (await app.get(`/popug/dashboard/days?from=${from}&to=${dash.day}`, auth)).body.days as { day: string; management_income: string }[];
    const drawnFrom = JSON.parse((await page.getByTestId('chart').getAttribute('data-days'))!) as [string, string][];
    expect(drawnFrom).to.deep.equal(days.map((d) => [d.day, d.management_income]));
    // The chart object holds the same numbers, and the canvas has ink on it.
    const chartData = await page.evaluate(() => {
      const chart = (window as unknown as { Chart: { getChart(el: Element): { data: { datasets: { data: number[] }[] } } } }).Chart.getChart(document.getElementById('chart')!);
      return chart.data.datasets[0]!.data;
    });
    expect(chartData).to.deep.equal(days.map((d) => Number(d.management_income)));
    expect(days.filter((d) => d.management_income !== '0.00')).to.have.length(3);
    const ink = await page.evaluate(() => {
      const canvas = document.getElementById('chart') as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) n++;
      return n;
    });
    expect(ink).to.be.greaterThan(500);
    const script = await fetch(`${app.url}/popug/vendor/chart.umd.js`);
    expect(script.status).to.equal(200);
    expect(await script.text()).to.include('Chart.js');
    expect(problems).to.deep.equal([]);
  });

  it("shows an employee their balance and their tasks, and lets them complete one", async () => {
    const rows = (await app.get('/popug/tasks?limit=100', app.admin.auth)).body.tasks as { task_id: string; assignee: string; status: string }[];
    const task = rows.find((t) => t.status === 'open')!;
    const page = await openAs('employee', task.assignee);
    const me = (await app.get('/popug/accounts/me', await app.authFor(task.assignee, 'employee'))).body;
    expect(await page.getByTestId('balance').textContent()).to.equal(me.balance);
    const shown = await page.getByTestId('tasks').locator('tr').count();
    expect(shown).to.equal(rows.filter((t) => t.assignee === task.assignee).length);
    await page.locator(`tr[data-task-id="${task.task_id}"] button`).click();
    await page.locator(`tr[data-task-id="${task.task_id}"] td:nth-child(2)`, { hasText: 'done' }).waitFor();
    expect(problems).to.deep.equal([]);
  });
});
