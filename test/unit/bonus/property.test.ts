import { expect } from 'chai';
import fc from 'fast-check';
import { initialState, transition, type ActorEvent, type ActorState, type Listing, type Rules } from '../../../src/domain/bonus/machine.ts';
import type { ListingContent } from '../../../src/domain/bonus/quality.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const rules: Rules = { pointsMinor: 10_000, cooldownMs: 30 * DAY, holdMs: DAY, quality: { minPhotos: 3, minDescription: 10, requirePrice: true } };
const good: ListingContent = { title: 't', description: 'long enough text', photosCount: 3, price: 5 };
const poor: ListingContent = { ...good, photosCount: 0 };

type Step =
  | { kind: 'listing'; l: number; good: boolean; skew: number }
  | { kind: 'ban'; l: number }
  | { kind: 'link' }
  | { kind: 'fire'; k: number }
  | { kind: 'wait'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('listing' as const), l: fc.nat(4), good: fc.boolean(), skew: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('ban' as const), l: fc.nat(4) }),
  fc.record({ kind: fc.constant('link' as const) }),
  fc.record({ kind: fc.constant('fire' as const), k: fc.nat(10) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1, HOUR, DAY - 1, DAY, 10 * DAY, 31 * DAY) }),
);

/**
 * The shell (actor.ts) in memory: stores the listing facts, runs the effects, hands timers out in
 * any order and at any time (early too), and checks the invariants after every step.
 */
function run(steps: Step[]): { state: ActorState; grants: number } {
  let now = Date.UTC(2026, 0, 1);
  let s: ActorState = initialState;
  const listings = new Map<string, Listing>();
  const timers: { listingId: string; seq: number; at: number }[] = [];
  const grants: { listingId: string; at: number }[] = [];
  const bannedAt = new Map<string, number>();
  const seenInCooldown = new Set<string>();
  const latestHoldEnd = new Map<string, number>();

  for (const st of steps) {
    now += 1;
    let event: ActorEvent;
    if (st.kind === 'wait') {
      now += st.ms;
      continue;
    } else if (st.kind === 'listing') {
      event = { type: 'listing', listingId: `L${st.l}`, content: st.good ? good : poor, producedAt: now + st.skew };
      const inCooldown = s.lastGrantAt !== null && now < s.lastGrantAt + rules.cooldownMs;
      if (inCooldown && !listings.has(`L${st.l}`)) seenInCooldown.add(`L${st.l}`);
    } else if (st.kind === 'ban') {
      event = { type: 'banned', listingId: `L${st.l}` };
      if (!bannedAt.has(`L${st.l}`)) bannedAt.set(`L${st.l}`, now);
    } else if (st.kind === 'link') {
      event = { type: 'linked', yandexUid: 'ya' };
    } else {
      if (timers.length === 0) continue;
      const [timer] = timers.splice(st.k % timers.length, 1);
      event = { type: 'hold_expired', listingId: timer!.listingId, seq: timer!.seq };
    }

    const id = event.type === 'listing' || event.type === 'banned' ? event.listingId : null;
    const aboutCandidate = id !== null && id === s.listingId && (s.state === 'holding' || s.state === 'waiting_link');
    const next = aboutCandidate
      ? [...listings.values()].filter((l) => l.status === 'good' && l.listingId !== id).sort((a, b) => a.firstSeenAt - b.firstSeenAt || a.listingId.localeCompare(b.listingId))[0] ?? null
      : null;
    const r = transition(s, event, { now, rules, listing: id ? (listings.get(id) ?? null) : null, next });
    s = r.state;
    if (r.listing) listings.set(r.listing.listingId, r.listing);
    for (const e of r.effects) {
      if (e.type === 'schedule_hold') {
        timers.push({ listingId: e.listingId, seq: e.seq, at: e.at });
        latestHoldEnd.set(e.listingId, e.at);
      } else if (e.type === 'grant') {
        expect(grants.some((g) => g.listingId === e.listingId), 'one grant per listing').to.equal(false);
        const last = grants[grants.length - 1];
        if (last) expect(now - last.at, 'grants at least a cooldown apart').to.be.at.least(rules.cooldownMs);
        expect(now, 'never before the hold ends').to.be.at.least(latestHoldEnd.get(e.listingId)!);
        expect(bannedAt.has(e.listingId), 'a banned listing is never paid').to.equal(false);
        expect(seenInCooldown.has(e.listingId), 'a listing first seen in a cooldown is never paid').to.equal(false);
        expect(listings.get(e.listingId)?.status, 'only a good listing is paid').to.equal('good');
        expect(e.yandexUid).to.equal('ya');
        grants.push({ listingId: e.listingId, at: now });
      } else if (e.type === 'set_status') {
        listings.set(e.listingId, { ...listings.get(e.listingId)!, status: e.status });
      } else if (e.type === 'close_open_listings') {
        for (const [lid, l] of listings) if (lid !== e.except && (l.status === 'good' || l.status === 'poor')) listings.set(lid, { ...l, status: 'superseded' });
      }
    }

    // The state is always coherent.
    expect(s.pointsGranted).to.equal(grants.length * rules.pointsMinor);
    if (s.state === 'holding') {
      expect(s.grantAt).to.be.a('number');
      expect(listings.get(s.listingId!)?.status, 'the candidate is a good listing').to.equal('good');
      expect(timers.some((t) => t.listingId === s.listingId && t.seq === s.holdSeq), 'a holding actor has a live timer').to.equal(true);
    }
    if (s.state === 'waiting_link') {
      expect(s.yandexUid).to.equal(null);
      expect(listings.get(s.listingId!)?.status).to.equal('good');
    }
    if (s.state === 'cooldown') expect(s.lastGrantAt).to.equal(grants[grants.length - 1]!.at);
    if (s.state === 'rejected') expect(s.problems.length).to.be.greaterThan(0);
  }
  return { state: s, grants: grants.length };
}

describe('bonus state machine (properties over random event orders)', () => {
  it('pays at most once per listing, never early, never banned or cooldown listings, a cooldown apart; the state stays coherent', () => {
    let paid = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        if (run(steps).grants > 0) paid++;
      }),
      { numRuns: 2000 },
    );
    // The property is only worth something if grants happen in a fair share of the runs.
    expect(paid).to.be.greaterThan(20);
  });

  it('never stuck: after any history, a link and late enough timers leave no bonus on hold or waiting', () => {
    const drain: Step[] = [{ kind: 'link' }, { kind: 'wait', ms: 2 * DAY }, ...Array.from({ length: 30 }, (): Step => ({ kind: 'fire', k: 0 }))];
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const { state } = run([...steps, ...drain]);
        expect(['idle', 'rejected', 'cooldown']).to.include(state.state);
      }),
      { numRuns: 1000 },
    );
  });
});
