import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import {
  expectLedgerSound, goodListing, grantsOf, kindsOf, poorListing, pointsBalance, settled, startBonus, stateOf,
  testSettings, transfersFor, waitForState, type BonusApp,
} from './bonusApp.ts';

describe('bonus: the per-user actor end to end (real MySQL, Redis, HTTP gateways)', function () {
  this.timeout(40_000);
  let app: BonusApp;
  let points: ConsumerServer;
  let push: ConsumerServer;
  let mail: ConsumerServer;

  before(async () => {
    points = await new ConsumerServer().start();
    push = await new ConsumerServer().start();
    mail = await new ConsumerServer().start();
    app = await startBonus({
      settings: testSettings({ points_url: `${points.url}/grants` }),
      env: { NOTIFY_PUSH_URL: `${push.url}/push`, NOTIFY_MAIL_URL: `${mail.url}/mail` },
    });
  });

  after(async () => {
    await app.stop();
    await Promise.all([points.stop(), push.stop(), mail.stop()]);
  });

  const db = () => app.database.db;
  const user = () => randomUUID();

  it('holds a linked user\'s good listing, pays once at grant_at, delivers the grant and tells the user', async () => {
    const u = user();
    points.setScript([503], 200);
    await app.link(u, 'ya-1');
    const published = await app.send('ListingPublished', goodListing(u, 'L1'));
    expect(published.body).to.deep.include({ success: true, duplicate: false });

    const holding = await waitForState(db(), u, 'holding');
    const status = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(status.body).to.deep.include({ state: 'holding', listing_id: 'L1', linked: true, points_granted: '0.00', missing: [] });
    expect(Date.parse(status.body.grant_at as string)).to.equal(holding.grant_at!.getTime());

    const paid = await waitForState(db(), u, 'cooldown');
    const grants = await grantsOf(db(), u);
    expect(grants.map((g) => g.listing_id)).to.deep.equal(['L1']);
    expect(grants[0]!.granted_at.getTime(), 'not before the hold ends').to.be.at.least(holding.grant_at!.getTime());
    expect(paid.points_granted).to.equal(10_000);
    expect(await pointsBalance(db(), u)).to.equal(10_000);
    expect(await transfersFor(db(), u, 'L1')).to.equal(1);

    const after = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(after.body).to.deep.include({ state: 'cooldown', listing_id: 'L1', points_granted: '100.00', missing: ['cooldown'] });
    expect(Date.parse(after.body.cooldown_until as string)).to.equal(paid.last_grant_at!.getTime() + 30 * 86_400_000);

    // The points service saw a 503, then the same grant again with the same key.
    await waitFor(() => points.received.filter((r) => r.body.user_id === u).length === 2, { timeoutMs: 10_000, what: 'points delivery retried' });
    const deliveries = points.received.filter((r) => r.body.user_id === u);
    expect(new Set(deliveries.map((r) => r.headers['idempotency-key']))).to.deep.equal(new Set([`bonus:${u}:L1`]));
    expect(deliveries[1]!.body).to.deep.include({ listing_id: 'L1', yandex_uid: 'ya-1', points: '100.00' });

    // Inbox, newest first; the same notifications went to the push and mail gateways.
    const inbox = await app.get('/notifications', await app.authFor(u));
    expect(inbox.body.notifications.map((n: { kind: string }) => n.kind)).to.deep.equal(['bonus_granted', 'bonus_pending']);
    await waitFor(() => push.received.filter((r) => r.body.user_id === u).length === 2 && mail.received.filter((r) => r.body.user_id === u).length === 2);
    const granted = push.received.find((r) => r.body.user_id === u && r.body.kind === 'bonus_granted')!;
    expect(granted.headers['idempotency-key']).to.equal(`notification-${inbox.body.notifications[0].id}-push`);
    const mailed = mail.received.find((r) => r.body.user_id === u && r.body.kind === 'bonus_granted')!;
    expect(mailed.body.subject).to.match(/100\.00/);
    await waitFor(async () => {
      const again = await app.get('/notifications', await app.authFor(u));
      return Object.keys(again.body.notifications[0].delivered).length === 2;
    }, { what: 'deliveries recorded in the inbox' });
    await expectLedgerSound(db());
  });

  it('asks for a link when the hold ends without one, and pays as soon as AccountLinked arrives', async () => {
    const u = user();
    await app.send('ListingPublished', goodListing(u, 'L1'));
    await waitForState(db(), u, 'holding');
    const during = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(during.body.missing).to.deep.equal(['link_account']);
    await waitForState(db(), u, 'waiting_link', 10_000);
    const waiting = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(waiting.body).to.deep.include({ state: 'waiting_link', listing_id: 'L1', linked: false, missing: ['link_account'] });
    expect(await grantsOf(db(), u)).to.have.length(0);

    await app.send('AccountLinked', { user_id: u, yandex_uid: 'ya-2' });
    await waitForState(db(), u, 'cooldown');
    expect(await transfersFor(db(), u, 'L1')).to.equal(1);
    expect(await kindsOf(db(), u)).to.deep.equal(['bonus_pending', 'bonus_waiting_link', 'bonus_granted']);
  });

  it('out of order: a ban before the publish means the late ListingPublished earns nothing', async () => {
    const u = user();
    await app.link(u, 'ya-3');
    await app.send('ListingBanned', { listing_id: 'L1', user_id: u, reason: 'fake car' });
    await settled(db());
    await app.send('ListingPublished', goodListing(u, 'L1'));
    await settled(db());
    await sleep(1200);
    expect((await stateOf(db(), u))!.state).to.equal('idle');
    expect(await grantsOf(db(), u)).to.have.length(0);
    expect(await kindsOf(db(), u)).to.deep.equal([]);
    const listing = await db()('bonus_listings').where({ user_id: u, listing_id: 'L1' }).first();
    expect(listing.status).to.equal('banned');
  });

  it('a ban during the hold cancels it; the next good listing takes over and is paid instead', async () => {
    const u = user();
    await app.link(u, 'ya-4');
    await app.send('ListingPublished', goodListing(u, 'L1'));
    await waitForState(db(), u, 'holding');
    await app.send('ListingPublished', goodListing(u, 'L2'));
    await settled(db());
    await app.send('ListingBanned', { listing_id: 'L1', user_id: u, reason: 'spam' });
    await waitFor(async () => (await stateOf(db(), u))?.listing_id === 'L2', { what: 'L2 to become the candidate' });
    expect((await stateOf(db(), u))!.state).to.equal('holding');
    await waitForState(db(), u, 'cooldown');
    expect((await grantsOf(db(), u)).map((g) => g.listing_id)).to.deep.equal(['L2']);
    expect(await transfersFor(db(), u, 'L1')).to.equal(0);
    expect(await kindsOf(db(), u)).to.deep.equal(['bonus_pending', 'bonus_cancelled', 'bonus_pending', 'bonus_granted']);
  });

  it('a poor listing is rejected with the rules it fails; ListingUpdated that fixes it earns the bonus', async () => {
    const u = user();
    await app.link(u, 'ya-5');
    await app.send('ListingPublished', poorListing(u, 'L1'), { producedAt: Date.now() - 1000 });
    await waitForState(db(), u, 'rejected');
    const rejected = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(rejected.body).to.deep.include({ state: 'rejected', listing_id: 'L1', missing: ['min_photos', 'require_price'] });
    const [missing] = (await app.get('/notifications', await app.authFor(u))).body.notifications;
    expect(missing.kind).to.equal('bonus_missing');
    expect(missing.data.missing).to.deep.equal(['min_photos', 'require_price']);
    expect(missing.body).to.match(/at least 3/);

    await app.send('ListingUpdated', goodListing(u, 'L1'));
    await waitForState(db(), u, 'holding');
    await waitForState(db(), u, 'cooldown');
    expect((await grantsOf(db(), u)).map((g) => g.listing_id)).to.deep.equal(['L1']);
  });

  it('a candidate made poor during the hold is dropped; an update older than the content applied is ignored', async () => {
    const u = user();
    await app.link(u, 'ya-6');
    const t0 = Date.now();
    await app.send('ListingPublished', goodListing(u, 'L1'), { producedAt: t0 });
    await waitForState(db(), u, 'holding');
    // Late, older content: ignored.
    await app.send('ListingUpdated', poorListing(u, 'L1'), { producedAt: t0 - 5000 });
    await settled(db());
    expect((await stateOf(db(), u))!.state).to.equal('holding');
    // Newer content that breaks the rules: the hold is dropped.
    await app.send('ListingUpdated', goodListing(u, 'L1', { description: 'short' }), { producedAt: t0 + 1 });
    await waitForState(db(), u, 'rejected');
    await sleep(1200);
    await settled(db());
    expect(await grantsOf(db(), u)).to.have.length(0);
    expect((await app.get(`/bonus/users/${u}`, await app.authFor(u))).body.missing).to.deep.equal(['min_description']);
  });

  it('one user posting many listings at once: one candidate, one grant, the rest superseded', async () => {
    const u = user();
    await app.link(u, 'ya-7');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => app.send('ListingPublished', goodListing(u, `M${i}`))));
    expect(answers.every((a) => a.status === 200 && a.body.duplicate === false)).to.equal(true);
    await settled(db());
    // On a slow machine the hold may already have ended by the time all 30 are settled.
    const holding = await stateOf(db(), u);
    expect(holding!.state).to.be.oneOf(['holding', 'cooldown']);
    await waitForState(db(), u, 'cooldown');
    await settled(db());
    const grants = await grantsOf(db(), u);
    expect(grants).to.have.length(1);
    expect(grants[0]!.listing_id).to.equal(holding!.listing_id);
    const statuses = (await db()('bonus_listings').where('user_id', u).groupBy('status').select('status').count({ n: '*' })) as { status: string; n: number }[];
    expect(Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]))).to.deep.equal({ granted: 1, superseded: 29 });
    expect(await pointsBalance(db(), u)).to.equal(10_000);
    expect(await kindsOf(db(), u)).to.deep.equal(['bonus_pending', 'bonus_granted']);
    const failed = await app.running.services.queues.get('bonus.apply-event').getFailedCount();
    expect(failed).to.equal(0);
  });
});
