import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../../src/platform/clock.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { goodListing, grantsOf, kindsOf, pointsBalance, settled, startBonus, stateOf, testSettings, transfersFor, waitForState, type BonusApp } from './bonusApp.ts';

const DAY = 86_400_000;
const HOLD = 300;

describe('bonus: the hold and the cooldown on an injected clock', function () {
  this.timeout(30_000);
  let app: BonusApp;
  const clock = new ManualClock(Date.now());

  before(async () => {
    app = await startBonus({ clock, settings: testSettings({ hold: `${HOLD}ms`, cooldown: '30d' }) });
  });

  after(async () => {
    await app.stop();
  });

  const db = () => app.database.db;

  it('pays exactly at grant_at by the injected clock, not before, and honours the cooldown to the millisecond', async () => {
    const u = randomUUID();
    await app.link(u, 'ya-c');
    const t0 = clock.now();
    await app.send('ListingPublished', goodListing(u, 'L1'));
    const holding = await waitForState(db(), u, 'holding');
    expect(holding.grant_at!.getTime()).to.equal(t0 + HOLD);

    // Real time passes, the injected clock does not: the hold timer fires and re-arms, never pays.
    await sleep(3 * HOLD);
    expect((await stateOf(db(), u))!.state).to.equal('holding');
    expect(await grantsOf(db(), u)).to.have.length(0);
    const [rearmed] = (await db()('outbox').where('queue', 'bonus.hold-expired').count({ n: '*' })) as { n: number }[];
    expect(Number(rearmed!.n), 'the timer re-armed itself').to.be.greaterThan(1);

    clock.advance(HOLD - 1);
    await sleep(2 * HOLD);
    expect(await grantsOf(db(), u), '1 ms early is still early').to.have.length(0);

    clock.advance(1);
    const paid = await waitForState(db(), u, 'cooldown');
    expect(paid.last_grant_at!.getTime()).to.equal(t0 + HOLD);
    expect((await grantsOf(db(), u))[0]!.granted_at.getTime()).to.equal(t0 + HOLD);

    // 1 ms before the cooldown ends: the listing is closed and the user told when to come back.
    const until = t0 + HOLD + 30 * DAY;
    clock.set(until - 1);
    await app.send('ListingPublished', goodListing(u, 'L2'));
    await waitFor(async () => (await db()('bonus_listings').where({ user_id: u, listing_id: 'L2' }).first())?.status === 'cooldown');
    await settled(db(), 10_000, () => clock.now());
    const inCooldown = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(inCooldown.body).to.deep.include({ state: 'cooldown', listing_id: 'L1', missing: ['cooldown'], cooldown_until: new Date(until).toISOString() });
    const [told] = (await app.get('/notifications', await app.authFor(u))).body.notifications;
    expect(told).to.deep.include({ kind: 'bonus_missing' });
    expect(told.data).to.deep.equal({ listing_id: 'L2', missing: ['cooldown'], cooldown_until: new Date(until).toISOString() });

    // Exactly at the end of the cooldown a new listing earns again.
    clock.set(until);
    expect((await app.get(`/bonus/users/${u}`, await app.authFor(u))).body.state).to.equal('idle');
    await app.send('ListingPublished', goodListing(u, 'L3'));
    await waitFor(async () => (await stateOf(db(), u))?.listing_id === 'L3');
    expect((await stateOf(db(), u))!.grant_at!.getTime()).to.equal(until + HOLD);
    clock.advance(HOLD);
    await waitFor(async () => (await grantsOf(db(), u)).length === 2, { what: 'the second grant' });

    expect((await grantsOf(db(), u)).map((g) => g.listing_id)).to.deep.equal(['L1', 'L3']);
    expect(await transfersFor(db(), u, 'L2')).to.equal(0);
    expect(await pointsBalance(db(), u)).to.equal(20_000);
    expect(await kindsOf(db(), u)).to.deep.equal(['bonus_pending', 'bonus_granted', 'bonus_missing', 'bonus_pending', 'bonus_granted']);
  });
});
