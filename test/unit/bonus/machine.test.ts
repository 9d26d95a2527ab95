import { expect } from 'chai';
import {
  explain, initialState, settle, transition, type ActorEvent, type ActorState, type Ctx, type Effect, type Listing, type Rules,
} from '../../../src/domain/bonus/machine.ts';
import type { ListingContent } from '../../../src/domain/bonus/quality.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 0, 10, 12);
const rules: Rules = { pointsMinor: 10_000, cooldownMs: 30 * DAY, holdMs: DAY, quality: { minPhotos: 3, minDescription: 10, requirePrice: true } };

const good: ListingContent = { title: 'Bike', description: 'A red bicycle', photosCount: 3, price: 100 };
const poor: ListingContent = { title: 'Bike', description: 'bike', photosCount: 1, price: 100 };

const state = (over: Partial<ActorState> = {}): ActorState => ({ ...initialState, ...over });
const ctx = (over: Partial<Ctx> = {}): Ctx => ({ now: T, rules, listing: null, next: null, ...over });
const listing = (listingId: string, status: Listing['status'], over: Partial<Listing> = {}): Listing => ({
  listingId, status, failed: status === 'poor' ? ['min_photos'] : [], contentAt: T - HOUR, firstSeenAt: T - HOUR, ...over,
});
const published = (listingId: string, content = good, producedAt = T): ActorEvent => ({ type: 'listing', listingId, content, producedAt });
const kinds = (effects: Effect[]) => effects.map((e) => (e.type === 'notify' ? `notify:${e.notice.kind}` : e.type));

const linked = { yandexUid: 'ya-1' };
const holding = (over: Partial<ActorState> = {}) => state({ state: 'holding', listingId: 'L1', grantAt: T + DAY, holdSeq: 1, ...over });

describe('bonus state machine (pure transitions and guards)', () => {
  describe('idle', () => {
    it('a good listing starts a hold of `hold` and tells the user what the bonus still needs', () => {
      const r = transition(state(), published('L1'), ctx());
      expect(r.state).to.deep.include({ state: 'holding', listingId: 'L1', grantAt: T + DAY, holdSeq: 1 });
      expect(r.listing).to.deep.include({ listingId: 'L1', status: 'good', failed: [], contentAt: T, firstSeenAt: T });
      expect(r.effects).to.deep.equal([
        { type: 'schedule_hold', listingId: 'L1', seq: 1, at: T + DAY },
        { type: 'notify', notice: { kind: 'bonus_pending', listingId: 'L1', grantAt: T + DAY, points: 10_000, missing: ['link_account'] } },
      ]);
    });

    it('a linked user is told nothing is missing', () => {
      const r = transition(state(linked), published('L1'), ctx());
      expect((r.effects[1] as Extract<Effect, { type: 'notify' }>).notice).to.deep.include({ missing: [] });
    });

    it('a poor listing is rejected with every rule it fails (quality guard)', () => {
      const r = transition(state(), published('L1', { title: '', description: ' short    ', photosCount: 2, price: null }), ctx());
      expect(r.state).to.deep.include({ state: 'rejected', listingId: 'L1', problems: ['min_photos', 'min_description', 'require_price'] });
      expect(r.listing).to.deep.include({ status: 'poor', failed: ['min_photos', 'min_description', 'require_price'] });
      expect(r.effects).to.deep.equal([
        { type: 'notify', notice: { kind: 'bonus_missing', listingId: 'L1', missing: ['min_photos', 'min_description', 'require_price', 'link_account'], cooldownUntil: null } },
      ]);
    });

    it('each rule alone is a guard; a price of 0 is no price; require_price false lets it pass', () => {
      for (const [content, rule] of [
        [{ ...good, photosCount: 2 }, 'min_photos'],
        [{ ...good, description: '123456789' }, 'min_description'],
        [{ ...good, price: 0 }, 'require_price'],
        [{ ...good, price: null }, 'require_price'],
      ] as const) {
        expect(transition(state(), published('L1', content), ctx()).state.problems).to.deep.equal([rule]);
      }
      const lax = { ...rules, quality: { ...rules.quality, requirePrice: false } };
      expect(transition(state(), published('L1', { ...good, price: null }), ctx({ rules: lax })).state.state).to.equal('holding');
    });

    it('a ban of an unknown listing is remembered, changing nothing else', () => {
      const r = transition(state(), { type: 'banned', listingId: 'L9' }, ctx());
      expect(r.state).to.deep.equal(state());
      expect(r.listing).to.deep.include({ listingId: 'L9', status: 'banned' });
      expect(r.effects).to.deep.equal([]);
    });

    it('AccountLinked only records the link (link before publish)', () => {
      const r = transition(state(), { type: 'linked', yandexUid: 'ya-9' }, ctx());
      expect(r.state).to.deep.equal(state({ yandexUid: 'ya-9' }));
      expect(r.effects).to.deep.equal([]);
    });
  });

  describe('rejected', () => {
    const rejected = state({ state: 'rejected', listingId: 'L1', problems: ['min_photos'] });

    it('ListingUpdated that fixes the listing starts a hold from now', () => {
      const r = transition(rejected, published('L1', good, T), ctx({ listing: listing('L1', 'poor') }));
      expect(r.state).to.deep.include({ state: 'holding', listingId: 'L1', grantAt: T + DAY, problems: [] });
    });

    it('an update that still fails the same rules does not notify again; new failures do', () => {
      const same = transition(rejected, published('L1', { ...good, photosCount: 1 }), ctx({ listing: listing('L1', 'poor') }));
      expect(same.state.state).to.equal('rejected');
      expect(same.effects).to.deep.equal([]);
      const other = transition(rejected, published('L1', { ...good, price: null }), ctx({ listing: listing('L1', 'poor') }));
      expect(other.state.problems).to.deep.equal(['require_price']);
      expect(kinds(other.effects)).to.deep.equal(['notify:bonus_missing']);
    });

    it('a good other listing starts its hold; a ban of the rejected listing returns to idle', () => {
      expect(transition(rejected, published('L2'), ctx()).state).to.deep.include({ state: 'holding', listingId: 'L2' });
      const banned = transition(rejected, { type: 'banned', listingId: 'L1' }, ctx({ listing: listing('L1', 'poor') }));
      expect(banned.state).to.deep.include({ state: 'idle', listingId: null, problems: [] });
      expect(banned.listing!.status).to.equal('banned');
    });
  });

  describe('holding', () => {
    it('another good listing waits as a fallback; a poor one is just recorded', () => {
      const r = transition(holding(), published('L2'), ctx());
      expect(r.state).to.deep.equal(holding());
      expect(r.listing!.status).to.equal('good');
      expect(r.effects).to.deep.equal([]);
      expect(transition(holding(), published('L3', poor), ctx()).listing!.status).to.equal('poor');
    });

    it('AccountLinked during the hold records the link and keeps holding', () => {
      const r = transition(holding(), { type: 'linked', yandexUid: 'ya-2' }, ctx());
      expect(r.state).to.deep.equal(holding({ yandexUid: 'ya-2' }));
      expect(r.effects).to.deep.equal([]);
    });

    it('ListingBanned of the candidate cancels the hold: idle without a fallback', () => {
      const r = transition(holding(), { type: 'banned', listingId: 'L1' }, ctx({ listing: listing('L1', 'good') }));
      expect(r.state).to.deep.include({ state: 'idle', listingId: null, grantAt: null, holdSeq: 1 });
      expect(r.listing!.status).to.equal('banned');
      expect(r.effects).to.deep.equal([{ type: 'notify', notice: { kind: 'bonus_cancelled', listingId: 'L1', reason: 'listing_banned' } }]);
    });

    it('ListingBanned of the candidate with a good fallback holds the fallback from now, with a new seq', () => {
      const r = transition(holding(), { type: 'banned', listingId: 'L1' }, ctx({ listing: listing('L1', 'good'), next: listing('L2', 'good') }));
      expect(r.state).to.deep.include({ state: 'holding', listingId: 'L2', grantAt: T + DAY, holdSeq: 2 });
      expect(kinds(r.effects)).to.deep.equal(['notify:bonus_cancelled', 'schedule_hold', 'notify:bonus_pending']);
    });

    it('a ban of another listing leaves the hold alone', () => {
      const r = transition(holding(), { type: 'banned', listingId: 'L2' }, ctx({ listing: listing('L2', 'good') }));
      expect(r.state).to.deep.equal(holding());
      expect(r.listing!.status).to.equal('banned');
    });

    it('the candidate made poor drops the hold (rejected, or the fallback), and says which rule failed', () => {
      const r = transition(holding(), published('L1', poor), ctx({ listing: listing('L1', 'good') }));
      expect(r.state).to.deep.include({ state: 'rejected', listingId: 'L1', grantAt: null, problems: ['min_photos', 'min_description'] });
      expect(r.listing!.status).to.equal('poor');
      expect(kinds(r.effects)).to.deep.equal(['notify:bonus_missing']);
      const withNext = transition(holding(), published('L1', poor), ctx({ listing: listing('L1', 'good'), next: listing('L2', 'good') }));
      expect(withNext.state).to.deep.include({ state: 'holding', listingId: 'L2', holdSeq: 2 });
    });

    it('a still-good update of the candidate only stores the content', () => {
      const r = transition(holding(), published('L1', { ...good, photosCount: 9 }, T + 5), ctx({ listing: listing('L1', 'good') }));
      expect(r.state).to.deep.equal(holding());
      expect(r.listing).to.deep.include({ status: 'good', contentAt: T + 5 });
      expect(r.effects).to.deep.equal([]);
    });

    it('content older than what was applied is ignored (out-of-order updates)', () => {
      const r = transition(holding(), published('L1', poor, T - 2 * HOUR), ctx({ listing: listing('L1', 'good') }));
      expect(r).to.deep.equal({ state: holding(), listing: null, effects: [] });
    });

    it('hold_expired before grant_at re-arms for the rest: never early', () => {
      const r = transition(holding(linked), { type: 'hold_expired', listingId: 'L1', seq: 1 }, ctx({ now: T + DAY - 1 }));
      expect(r.state).to.deep.equal(holding(linked));
      expect(r.effects).to.deep.equal([{ type: 'schedule_hold', listingId: 'L1', seq: 1, at: T + DAY }]);
    });

    it('hold_expired at grant_at with a link pays once and enters the cooldown', () => {
      const r = transition(holding({ ...linked, pointsGranted: 10_000 }), { type: 'hold_expired', listingId: 'L1', seq: 1 }, ctx({ now: T + DAY }));
      expect(r.state).to.deep.include({ state: 'cooldown', listingId: 'L1', grantAt: null, lastGrantAt: T + DAY, pointsGranted: 20_000 });
      expect(r.effects).to.deep.equal([
        { type: 'grant', listingId: 'L1', points: 10_000, yandexUid: 'ya-1' },
        { type: 'set_status', listingId: 'L1', status: 'granted' },
        { type: 'close_open_listings', except: 'L1' },
        { type: 'notify', notice: { kind: 'bonus_granted', listingId: 'L1', points: 10_000 } },
      ]);
    });

    it('hold_expired without a link waits for one (the linked-account guard)', () => {
      const r = transition(holding(), { type: 'hold_expired', listingId: 'L1', seq: 1 }, ctx({ now: T + DAY }));
      expect(r.state).to.deep.include({ state: 'waiting_link', listingId: 'L1', grantAt: null });
      expect(r.effects).to.deep.equal([{ type: 'notify', notice: { kind: 'bonus_waiting_link', listingId: 'L1', points: 10_000 } }]);
    });

    it('a stale timer (other seq, other listing, not holding) does nothing', () => {
      const late = ctx({ now: T + 2 * DAY });
      for (const [s, ev] of [
        [holding(linked), { type: 'hold_expired', listingId: 'L1', seq: 0 }],
        [holding(linked), { type: 'hold_expired', listingId: 'L0', seq: 1 }],
        [state(linked), { type: 'hold_expired', listingId: 'L1', seq: 1 }],
        [state({ ...linked, state: 'waiting_link', listingId: 'L1', holdSeq: 1 }), { type: 'hold_expired', listingId: 'L1', seq: 1 }],
      ] as [ActorState, ActorEvent][]) {
        expect(transition(s, ev, late)).to.deep.equal({ state: s, listing: null, effects: [] });
      }
    });
  });

  describe('waiting_link', () => {
    const waiting = state({ state: 'waiting_link', listingId: 'L1', holdSeq: 1 });

    it('AccountLinked pays at once (довыдать)', () => {
      const r = transition(waiting, { type: 'linked', yandexUid: 'ya-3' }, ctx());
      expect(r.state).to.deep.include({ state: 'cooldown', yandexUid: 'ya-3', lastGrantAt: T, pointsGranted: 10_000 });
      expect(kinds(r.effects)).to.deep.equal(['grant', 'set_status', 'close_open_listings', 'notify:bonus_granted']);
    });

    it('ListingBanned of the candidate cancels; a good fallback is held', () => {
      expect(transition(waiting, { type: 'banned', listingId: 'L1' }, ctx({ listing: listing('L1', 'good') })).state.state).to.equal('idle');
      const r = transition(waiting, { type: 'banned', listingId: 'L1' }, ctx({ listing: listing('L1', 'good'), next: listing('L2', 'good') }));
      expect(r.state).to.deep.include({ state: 'holding', listingId: 'L2', holdSeq: 2 });
    });

    it('another listing is only recorded', () => {
      expect(transition(waiting, published('L2'), ctx()).state).to.deep.equal(waiting);
    });
  });

  describe('cooldown', () => {
    const paid = state({ ...linked, state: 'cooldown', listingId: 'L1', lastGrantAt: T, pointsGranted: 10_000 });
    const until = T + 30 * DAY;

    it('a listing 1 ms before the cooldown ends is closed and the user told when to come back', () => {
      const r = transition(paid, published('L2'), ctx({ now: until - 1 }));
      expect(r.state).to.deep.equal(paid);
      expect(r.listing).to.deep.include({ status: 'cooldown' });
      expect(r.effects).to.deep.equal([{ type: 'notify', notice: { kind: 'bonus_missing', listingId: 'L2', missing: ['cooldown'], cooldownUntil: until } }]);
    });

    it('a listing exactly when the cooldown ends is held (the boundary belongs to the next period)', () => {
      const r = transition(paid, published('L2'), ctx({ now: until }));
      expect(r.state).to.deep.include({ state: 'holding', listingId: 'L2', grantAt: until + DAY });
    });

    it('settle turns an expired cooldown into idle, and only then', () => {
      expect(settle(paid, until - 1, rules.cooldownMs)).to.equal(paid);
      expect(settle(paid, until, rules.cooldownMs)).to.deep.include({ state: 'idle', listingId: null, lastGrantAt: T });
    });

    it('listings closed in a cooldown, granted or superseded stay closed; a granted one is not clawed back by a ban', () => {
      for (const status of ['cooldown', 'granted', 'superseded', 'banned'] as const) {
        const r = transition(state(), published('L2'), ctx({ now: until + DAY, listing: listing('L2', status) }));
        expect(r, status).to.deep.equal({ state: state(), listing: null, effects: [] });
      }
      const ban = transition(paid, { type: 'banned', listingId: 'L1' }, ctx({ listing: listing('L1', 'granted') }));
      expect(ban).to.deep.equal({ state: paid, listing: null, effects: [] });
    });
  });

  describe('explain (GET /bonus/users/:id)', () => {
    it('says what is missing in every state', () => {
      expect(explain(state(), T, rules.cooldownMs)).to.deep.equal({ state: 'idle', listingId: null, grantAt: null, cooldownUntil: null, linked: false, missing: ['publish_listing', 'link_account'] });
      expect(explain(state({ state: 'rejected', listingId: 'L1', problems: ['require_price'] }), T, rules.cooldownMs).missing).to.deep.equal(['require_price', 'link_account']);
      expect(explain(holding(linked), T, rules.cooldownMs)).to.deep.include({ grantAt: T + DAY, missing: [] });
      expect(explain(holding(), T, rules.cooldownMs).missing).to.deep.equal(['link_account']);
      expect(explain(state({ state: 'waiting_link', listingId: 'L1' }), T, rules.cooldownMs).missing).to.deep.equal(['link_account']);
      const paid = state({ ...linked, state: 'cooldown', listingId: 'L1', lastGrantAt: T });
      expect(explain(paid, T + 1, rules.cooldownMs)).to.deep.include({ state: 'cooldown', cooldownUntil: T + 30 * DAY, missing: ['cooldown'] });
      expect(explain(paid, T + 30 * DAY, rules.cooldownMs)).to.deep.include({ state: 'idle', missing: ['publish_listing'] });
    });
  });
});
