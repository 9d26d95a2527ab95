import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { waitFor } from '../../helpers/wait.ts';
import { bonusContracts } from '../../../queues/contracts/bonus.ts';
import { recheckLinks, type LinkAnswer } from '../../../src/domain/bonus/recheck.ts';
import { goodListing, grantsOf, kindsOf, settled, startBonus, stateOf, testSettings, type BonusApp } from './bonusApp.ts';

describe('bonus: the link re-check against the accounts service', function () {
  this.timeout(40_000);
  let app: BonusApp;
  let accounts: ConsumerServer;
  const links = new Map<string, string | null>();

  before(async () => {
    accounts = await new ConsumerServer().start();
    accounts.reply = (req) => {
      const id = decodeURIComponent(req.path.replace(/^\/v1\/users\//, ''));
      return { yandex_uid: links.get(id) ?? null };
    };
    app = await startBonus({
      settings: testSettings({
        hold: '200ms',
        accounts_url: `${accounts.url}/v1/`,
        recheck: { batch_size: 7, concurrency: 4, timeout_ms: 300, backoff: { delay_ms: 100, max_delay_ms: 400 }, give_up_after: 6 },
      }),
    });
  });

  after(async () => {
    await app.stop();
    await accounts.stop();
  });

  beforeEach(() => {
    accounts.received.length = 0;
    accounts.setScript([], 200);
    accounts.choose = () => undefined;
  });

  const db = () => app.database.db;
  const queue = () => app.running.services.queues.get('bonus.recheck-links');

  async function waitingUsers(n: number): Promise<string[]> {
    const users = Array.from({ length: n }, () => randomUUID());
    await Promise.all(users.map((u) => app.send('ListingPublished', goodListing(u, 'L1'))));
    await waitFor(async () => {
      const [row] = (await db()('bonus_state').whereIn('user_id', users).andWhere('state', 'waiting_link').count({ n: '*' })) as { n: number }[];
      return Number(row!.n) === n;
    }, { what: `${n} users waiting for a link` });
    return users;
  }

  async function recheck(attempts?: number): Promise<Job> {
    const id = await app.running.services.queues.enqueue(bonusContracts['bonus.recheck-links'], {}, attempts ? { attempts } : {});
    await waitFor(async () => ['completed', 'failed'].includes((await queue().getJobState(id)) as string), { timeoutMs: 20_000, what: 'the re-check job' });
    return (await queue().getJob(id))!;
  }

  it('pays every waiting user whose link appeared (довыдать), page by page, and leaves the rest waiting', async () => {
    const users = await waitingUsers(20);
    users.slice(0, 12).forEach((u, i) => links.set(u, `ya-${i}`));
    const job = await recheck();
    expect(await job.getState()).to.equal('completed');
    expect(job.returnvalue).to.deep.include({ linked: 12, skipped: 0, pauses: 0 });
    expect(job.returnvalue.checked).to.be.at.least(20);
    const asked = new Set(accounts.received.map((r) => r.path));
    for (const u of users) expect(asked.has(`/v1/users/${encodeURIComponent(u)}`), u).to.equal(true);

    await settled(db());
    for (const u of users.slice(0, 12)) {
      expect((await stateOf(db(), u))!.state).to.equal('cooldown');
      expect((await grantsOf(db(), u)).map((g) => g.listing_id)).to.deep.equal(['L1']);
      expect(await kindsOf(db(), u)).to.deep.equal(['bonus_pending', 'bonus_waiting_link', 'bonus_granted']);
    }
    for (const u of users.slice(12)) expect((await stateOf(db(), u))!.state).to.equal('waiting_link');
    // Paid users are not asked again.
    accounts.received.length = 0;
    await recheck();
    expect(accounts.received.map((r) => r.path)).to.not.include(`/v1/users/${encodeURIComponent(users[0]!)}`);
  });

  it('backs off while the accounts service is down and finishes once it is back', async () => {
    const users = await waitingUsers(6);
    for (const u of users) links.set(u, `ya-${u}`);
    // Three waves of failures (4 requests in flight each): network errors, a hang past the timeout, 503s.
    accounts.setScript([503, 'drop', 503, 503, 'drop', 503, 'hang', 503, 503, 503, 503, 503], 200);
    const started = Date.now();
    const job = await recheck();
    expect(await job.getState(), String(job.failedReason)).to.equal('completed');
    // Each wave counts once and pauses longer: ~100, 200, 400 ms (20 % jitter); a dropped socket
    // may cost one more wave (the HTTP client may retry it on a new connection).
    expect(job.returnvalue.pauses).to.be.within(3, 5);
    expect(Date.now() - started).to.be.at.least(0.8 * 700);
    await settled(db());
    for (const u of users) expect((await stateOf(db(), u))!.state).to.equal('cooldown');
    // The failed answers were asked again (users left waiting by earlier tests share the pass, so
    // a failure may land on any of them): some user was asked more than once.
    const asked = accounts.received.filter((r) => r.at >= started);
    expect(asked.length).to.be.greaterThan(new Set(asked.map((r) => r.path)).size);
  });

  it('does not let a worker whose timer fired late send into a breaker that opened again meanwhile', async () => {
    const users = new Set(await waitingUsers(2));
    const services = app.running.services;
    const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    // Two workers; the service is down for the first three requests and for 150 ms after the third
    // failed, while the breaker it opens stays shut for 200 ms (no jitter).
    let asks = 0;
    let downUntil = Infinity;
    let releaseLate!: () => void;
    const late = new Promise<void>((resolve) => (releaseLate = resolve));
    const ask = async (userId: string): Promise<LinkAnswer> => {
      const n = ++asks;
      const sentAt = Date.now();
      await pause(5);
      if (n === 3) {
        downUntil = Date.now() + 150;
        releaseLate();
      }
      if (n <= 3 || sentAt < downUntil) return { kind: 'down', reason: `down (request ${n})` };
      return users.has(userId) ? { kind: 'linked', yandexUid: `ya-${userId}` } : { kind: 'unlinked' };
    };
    // The second sleeper (the other worker, after the first wave) wakes only after the third failure:
    // its wait is over by then, but the breaker has opened again.
    let sleeps = 0;
    const sleep = async (ms: number) => {
      if (++sleeps === 2) await late;
      await pause(ms);
    };
    const report = await recheckLinks({
      db: db(),
      settings: { ...services.bonus, recheck: { ...services.bonus.recheck, concurrency: 2, giveUpAfter: 3, backoff: { delayMs: 100, maxDelayMs: 400, jitter: 0 } } },
      now: () => services.clock.now(),
      channels: [...services.notifications.channels.keys()],
      transaction: (fn) => services.outbox.transaction(fn),
      ask,
      sleep,
    });
    // Two waves (the first two requests, then the third): the late worker waited for the breaker
    // instead of counting a third wave, which would have given the pass up.
    expect(report.pauses).to.equal(2);
    expect(report.linked).to.equal(2);
  });

  it('gives up the pass when the service stays down, pays nobody, and the job is retried later', async () => {
    const users = await waitingUsers(5);
    for (const u of users) links.set(u, `ya-${u}`);
    accounts.setScript([], 503);
    const job = await recheck(1);
    expect(await job.getState()).to.equal('failed');
    expect(job.failedReason).to.match(/accounts service down after 6 tries: answered 503/);
    // Each wave of failures counts once: about give_up_after waves of at most `concurrency` requests.
    expect(accounts.received.length).to.be.at.most(6 * 4 + 4);
    for (const u of users) expect((await stateOf(db(), u))!.state).to.equal('waiting_link');
    expect(bonusContracts['bonus.recheck-links'].attempts).to.be.greaterThan(1);

    accounts.setScript([], 200);
    await recheck();
    await settled(db());
    for (const u of users) expect((await stateOf(db(), u))!.state).to.equal('cooldown');
  });

  it('treats 404 as no link and skips answers it cannot read', async () => {
    const users = await waitingUsers(3);
    for (const u of users) links.set(u, `ya-${u}`);
    const path = (u: string) => `/v1/users/${encodeURIComponent(u)}`;
    accounts.choose = (req) => (req.path === path(users[0]!) ? 404 : req.path === path(users[1]!) ? 400 : undefined);
    const job = await recheck();
    expect(job.returnvalue).to.deep.include({ skipped: 1, pauses: 0 });
    await settled(db());
    expect((await stateOf(db(), users[0]!))!.state).to.equal('waiting_link');
    expect((await stateOf(db(), users[1]!))!.state).to.equal('waiting_link');
    expect((await stateOf(db(), users[2]!))!.state).to.equal('cooldown');
  });

  it('is registered as a cron job scheduler with the configured pattern', async () => {
    const schedulers = await queue().getJobSchedulers();
    const ours = schedulers.find((s) => s.key === 'bonus.recheck-links' || s.id === 'bonus.recheck-links');
    expect(ours, JSON.stringify(schedulers)).to.not.equal(undefined);
    expect(ours!.pattern).to.equal('*/15 * * * *');
  });
});
