import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startConveyor, type TestConveyor } from '../helpers/conveyor.ts';
import { wsExtension } from '../../src/ws/extension.ts';

const CHROMIUM = '/usr/bin/chromium';

describe('chat page in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let app: TestConveyor;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const room = randomUUID();

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.warn(`  skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
      this.skip();
    }
    app = await startConveyor({ extensions: [wsExtension()], env: { DEV_TOKENS: 'true', CHAT_MESSAGES_PER_MINUTE: '100000', CHAT_DONATIONS_PER_MINUTE: '100000' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  });

  /** A person in their own browser context: opens the page, mints a dev token, connects. */
  async function person(name: string, role: 'viewer' | 'owner'): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`${name}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`${name}: ${msg.text()} ${msg.location().url}`);
    });
    await page.goto(`${app.url}/chat/?room=${room}`);
    await page.getByTestId('name').fill(name);
    await page.getByTestId(role === 'owner' ? 'mint-owner' : 'mint-viewer').click();
    await page.getByTestId('whoami').filter({ hasText: name }).waitFor();
    await page.getByTestId('connect').click();
    await page.locator('[data-testid=status][data-state=live]').waitFor();
    return page;
  }

  const say = async (page: Page, text: string, priv = false) => {
    await page.getByTestId('message').fill(text);
    await page.getByTestId('private').setChecked(priv);
    await page.getByTestId('send').click();
  };
  const feedItem = (page: Page, text: string) => page.getByTestId('feed').locator('li', { hasText: text });

  it('shows one viewer what another sends, and a private message to its sender and the owner only', async () => {
    // The owner comes first: a room exists once its model has been seen.
    const owner = await person('Model', 'owner');
    const alice = await person('Alice', 'viewer');
    const bob = await person('Bob', 'viewer');

    await say(alice, 'hello from alice');
    await feedItem(bob, 'hello from alice').waitFor();
    await feedItem(owner, 'hello from alice').waitFor();

    await say(alice, 'just for the model', true);
    await feedItem(owner, 'just for the model').waitFor();
    await feedItem(alice, 'just for the model').waitFor();
    await say(alice, 'marker after the secret');
    await feedItem(bob, 'marker after the secret').waitFor();
    expect(await feedItem(bob, 'just for the model').count()).to.equal(0);
    expect(await feedItem(owner, 'just for the model').getAttribute('class')).to.include('private');
    expect(await feedItem(bob, 'hello from alice').textContent()).to.include('Alice');
  });

  it('shows a donation, the new sponsor and the goal live', async () => {
    const [ownerPage, alicePage, bobPage] = contexts.map((c) => c.pages()[0]!);
    await ownerPage!.getByTestId('goal-name').fill('New camera');
    await ownerPage!.getByTestId('goal-sum').fill('10.00');
    await ownerPage!.getByTestId('add-goal').click();
    await ownerPage!.getByTestId('goals').filter({ hasText: 'New camera' }).waitFor();

    await alicePage!.getByTestId('top-up').click();
    await alicePage!.getByTestId('balance').filter({ hasText: '100.00' }).waitFor();
    await alicePage!.getByTestId('sum').fill('15.50');
    await alicePage!.getByTestId('donate-message').fill('for the camera');
    await alicePage!.getByTestId('donate').click();

    await bobPage!.locator('li[data-type=donate]', { hasText: 'for the camera' }).waitFor();
    await bobPage!.locator('li[data-type=change_sponsor]', { hasText: 'Alice' }).waitFor();
    await bobPage!.locator('li[data-type=goal_reached]', { hasText: 'New camera' }).waitFor();
    await bobPage!.getByTestId('sponsor').filter({ hasText: 'Alice' }).waitFor();
    await bobPage!.getByTestId('goals').filter({ hasText: '15.50 / 10.00' }).waitFor();
    await alicePage!.getByTestId('balance').filter({ hasText: '84.50' }).waitFor();
  });

  it('logged no page errors (CSP included)', () => {
    expect(problems).to.deep.equal([]);
  });
});
