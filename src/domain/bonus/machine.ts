/**
 * The per-user bonus actor as a pure function: (state, event, ctx) → {state, listing, effects}.
 * docs/bonus-state-machine.md draws exactly this; the shell (actor.ts) loads the inputs under the
 * user's row lock, stores the outputs and carries out the effects in the same transaction.
 */
import { failedRules, type ListingContent, type Rule } from './quality.ts';
import type { QualityRules } from './settings.ts';

export const STATES = ['idle', 'rejected', 'holding', 'waiting_link', 'cooldown'] as const;
export type StateName = (typeof STATES)[number];

/** good/poor are open (may still earn); the others are closed for good. */
export type ListingStatus = 'good' | 'poor' | 'banned' | 'granted' | 'superseded' | 'cooldown';
export const OPEN: readonly ListingStatus[] = ['good', 'poor'];

export type Missing = Rule | 'publish_listing' | 'link_account' | 'cooldown';

export interface ActorState {
  state: StateName;
  /** holding / waiting_link: the candidate; rejected: the listing that failed; cooldown: the one paid. */
  listingId: string | null;
  /** holding: when the fraud hold ends. */
  grantAt: number | null;
  /** Bumped by every hold; a hold timer carrying another number is stale. */
  holdSeq: number;
  yandexUid: string | null;
  lastGrantAt: number | null;
  /** Minor units granted so far. */
  pointsGranted: number;
  /** rejected: the rules the listing failed. */
  problems: Rule[];
}

export const initialState: ActorState = {
  state: 'idle',
  listingId: null,
  grantAt: null,
  holdSeq: 0,
  yandexUid: null,
  lastGrantAt: null,
  pointsGranted: 0,
  problems: [],
};

/** What the actor remembers of one listing. */
export interface Listing {
  listingId: string;
  status: ListingStatus;
  failed: Rule[];
  /** produced_at of the content last applied; older content arriving late is ignored. */
  contentAt: number | null;
  firstSeenAt: number;
}

export type ActorEvent =
  /** ListingPublished or ListingUpdated: the same payload, the same handling (order-proof). */
  | { type: 'listing'; listingId: string; content: ListingContent; producedAt: number }
  | { type: 'banned'; listingId: string }
  /** AccountLinked, or a link the re-check found at the accounts service. */
  | { type: 'linked'; yandexUid: string }
  | { type: 'hold_expired'; listingId: string; seq: number };

export interface Rules {
  pointsMinor: number;
  cooldownMs: number;
  holdMs: number;
  quality: QualityRules;
}

export interface Ctx {
  now: number;
  rules: Rules;
  /** The stored facts of the event's listing, if any. */
  listing: Listing | null;
  /**
   * The fallback when the candidate falls through (banned or made poor): the user's earliest other
   * good listing. The shell loads it only for an event about the current candidate.
   */
  next: Listing | null;
}

export type Notice =
  | { kind: 'bonus_pending'; listingId: string; grantAt: number; points: number; missing: Missing[] }
  | { kind: 'bonus_missing'; listingId: string; missing: Missing[]; cooldownUntil: number | null }
  | { kind: 'bonus_waiting_link'; listingId: string; points: number }
  | { kind: 'bonus_granted'; listingId: string; points: number }
  | { kind: 'bonus_cancelled'; listingId: string; reason: 'listing_banned' };

export type Effect =
  /** A durable delayed job that delivers hold_expired(listingId, seq) at `at`. */
  | { type: 'schedule_hold'; listingId: string; seq: number; at: number }
  /** Pay `points` into the user's points account, once per (user, listing). */
  | { type: 'grant'; listingId: string; points: number; yandexUid: string }
  | { type: 'notify'; notice: Notice }
  /** Another listing than the event's changes status. */
  | { type: 'set_status'; listingId: string; status: ListingStatus }
  /** The period's bonus is paid: every other open listing loses its chance ('superseded'). */
  | { type: 'close_open_listings'; except: string };

export interface Transition {
  state: ActorState;
  /** The event listing's facts to store; null when they did not change. */
  listing: Listing | null;
  effects: Effect[];
}

export function isCandidate(s: ActorState, listingId: string): boolean {
  return (s.state === 'holding' || s.state === 'waiting_link') && s.listingId === listingId;
}

/** A cooldown that has run out is idle: "the last bonus was longer ago than the cooldown". */
export function settle(s: ActorState, now: number, cooldownMs: number): ActorState {
  if (s.state === 'cooldown' && s.lastGrantAt !== null && now >= s.lastGrantAt + cooldownMs) {
    return { ...s, state: 'idle', listingId: null, grantAt: null, problems: [] };
  }
  return s;
}

export function transition(prev: ActorState, event: ActorEvent, ctx: Ctx): Transition {
  const s = settle(prev, ctx.now, ctx.rules.cooldownMs);
  switch (event.type) {
    case 'listing':
      return onListing(s, event, ctx);
    case 'banned':
      return onBanned(s, event.listingId, ctx);
    case 'linked':
      return onLinked(s, event.yandexUid, ctx);
    case 'hold_expired':
      return onHoldExpired(s, event, ctx);
  }
}

const unchanged = (s: ActorState): Transition => ({ state: s, listing: null, effects: [] });

function linkMissing(s: ActorState): Missing[] {
  return s.yandexUid === null ? ['link_account'] : [];
}

function sameRules(a: readonly Rule[], b: readonly Rule[]): boolean {
  return a.length === b.length && a.every((r) => b.includes(r));
}

function startHold(s: ActorState, listingId: string, ctx: Ctx): { state: ActorState; effects: Effect[] } {
  const seq = s.holdSeq + 1;
  const grantAt = ctx.now + ctx.rules.holdMs;
  return {
    state: { ...s, state: 'holding', listingId, grantAt, holdSeq: seq, problems: [] },
    effects: [
      { type: 'schedule_hold', listingId, seq, at: grantAt },
      { type: 'notify', notice: { kind: 'bonus_pending', listingId, grantAt, points: ctx.rules.pointsMinor, missing: linkMissing(s) } },
    ],
  };
}

/** The candidate fell through: hold the next good listing, or end in `otherwise`. */
function fallBack(s: ActorState, ctx: Ctx, otherwise: ActorState): { state: ActorState; effects: Effect[] } {
  if (ctx.next && ctx.next.status === 'good' && ctx.next.listingId !== s.listingId) return startHold(s, ctx.next.listingId, ctx);
  return { state: otherwise, effects: [] };
}

function grant(s: ActorState, listingId: string, yandexUid: string, ctx: Ctx): Transition {
  const points = ctx.rules.pointsMinor;
  return {
    state: { ...s, state: 'cooldown', listingId, grantAt: null, yandexUid, lastGrantAt: ctx.now, pointsGranted: s.pointsGranted + points, problems: [] },
    listing: null,
    effects: [
      { type: 'grant', listingId, points, yandexUid },
      { type: 'set_status', listingId, status: 'granted' },
      { type: 'close_open_listings', except: listingId },
      { type: 'notify', notice: { kind: 'bonus_granted', listingId, points } },
    ],
  };
}

function onListing(s: ActorState, event: Extract<ActorEvent, { type: 'listing' }>, ctx: Ctx): Transition {
  const known = ctx.listing;
  const L = event.listingId;
  if (known && !OPEN.includes(known.status)) return unchanged(s);
  if (known && known.contentAt !== null && event.producedAt < known.contentAt) return unchanged(s);

  const failed = failedRules(event.content, ctx.rules.quality);
  const facts = (status: ListingStatus): Listing => ({
    listingId: L,
    status,
    failed,
    contentAt: event.producedAt,
    firstSeenAt: known?.firstSeenAt ?? ctx.now,
  });

  if (s.state === 'cooldown') {
    // Only unknown listings get here: every open one was closed when the bonus was paid.
    const cooldownUntil = s.lastGrantAt! + ctx.rules.cooldownMs;
    return {
      state: s,
      listing: facts('cooldown'),
      effects: [{ type: 'notify', notice: { kind: 'bonus_missing', listingId: L, missing: ['cooldown'], cooldownUntil } }],
    };
  }

  if (isCandidate(s, L)) {
    if (failed.length === 0) return { state: s, listing: facts('good'), effects: [] };
    // The candidate was made worse during the hold: it no longer earns.
    const missing: Effect = { type: 'notify', notice: { kind: 'bonus_missing', listingId: L, missing: [...failed, ...linkMissing(s)], cooldownUntil: null } };
    const rejected: ActorState = { ...s, state: 'rejected', listingId: L, grantAt: null, problems: failed };
    const next = fallBack(s, ctx, rejected);
    return { state: next.state, listing: facts('poor'), effects: [missing, ...next.effects] };
  }

  if (s.state === 'holding' || s.state === 'waiting_link') {
    // Another listing is already on its way to the bonus; this one waits as a fallback.
    return { state: s, listing: facts(failed.length === 0 ? 'good' : 'poor'), effects: [] };
  }

  // idle or rejected: the user may earn now.
  if (failed.length === 0) {
    const held = startHold(s, L, ctx);
    return { state: held.state, listing: facts('good'), effects: held.effects };
  }
  const news = !(known?.status === 'poor' && sameRules(known.failed, failed));
  return {
    state: { ...s, state: 'rejected', listingId: L, grantAt: null, problems: failed },
    listing: facts('poor'),
    effects: news ? [{ type: 'notify', notice: { kind: 'bonus_missing', listingId: L, missing: [...failed, ...linkMissing(s)], cooldownUntil: null } }] : [],
  };
}

function onBanned(s: ActorState, L: string, ctx: Ctx): Transition {
  const known = ctx.listing;
  // A paid bonus is not clawed back; a second ban changes nothing.
  if (known && (known.status === 'granted' || known.status === 'banned')) return unchanged(s);
  const banned: Listing = {
    listingId: L,
    status: 'banned',
    failed: known?.failed ?? [],
    contentAt: known?.contentAt ?? null,
    firstSeenAt: known?.firstSeenAt ?? ctx.now,
  };
  if (isCandidate(s, L)) {
    const idle: ActorState = { ...s, state: 'idle', listingId: null, grantAt: null, problems: [] };
    const next = fallBack(s, ctx, idle);
    return {
      state: next.state,
      listing: banned,
      effects: [{ type: 'notify', notice: { kind: 'bonus_cancelled', listingId: L, reason: 'listing_banned' } }, ...next.effects],
    };
  }
  if (s.state === 'rejected' && s.listingId === L) {
    return { state: { ...s, state: 'idle', listingId: null, problems: [] }, listing: banned, effects: [] };
  }
  // Unknown listings are remembered banned too, so a ListingPublished arriving late is ignored.
  return { state: s, listing: banned, effects: [] };
}

function onLinked(s: ActorState, yandexUid: string, ctx: Ctx): Transition {
  if (s.state === 'waiting_link' && s.listingId !== null) return grant(s, s.listingId, yandexUid, ctx);
  return { state: { ...s, yandexUid }, listing: null, effects: [] };
}

function onHoldExpired(s: ActorState, event: Extract<ActorEvent, { type: 'hold_expired' }>, ctx: Ctx): Transition {
  if (s.state !== 'holding' || s.listingId !== event.listingId || s.holdSeq !== event.seq || s.grantAt === null) return unchanged(s);
  // Early (another clock, a re-added timer): arm again for the rest; never grant before grantAt.
  if (ctx.now < s.grantAt) return { state: s, listing: null, effects: [{ type: 'schedule_hold', listingId: event.listingId, seq: event.seq, at: s.grantAt }] };
  if (s.yandexUid !== null) return grant(s, event.listingId, s.yandexUid, ctx);
  return {
    state: { ...s, state: 'waiting_link', grantAt: null },
    listing: null,
    effects: [{ type: 'notify', notice: { kind: 'bonus_waiting_link', listingId: event.listingId, points: ctx.rules.pointsMinor } }],
  };
}

export interface Explanation {
  state: StateName;
  listingId: string | null;
  grantAt: number | null;
  cooldownUntil: number | null;
  linked: boolean;
  missing: Missing[];
}

/** What GET /bonus/users/:id shows: the state now and what stands between the user and a bonus. */
export function explain(prev: ActorState, now: number, cooldownMs: number): Explanation {
  const s = settle(prev, now, cooldownMs);
  const missing: Missing[] =
    s.state === 'idle'
      ? ['publish_listing', ...linkMissing(s)]
      : s.state === 'rejected'
        ? [...s.problems, ...linkMissing(s)]
        : s.state === 'cooldown'
          ? ['cooldown']
          : linkMissing(s);
  return {
    state: s.state,
    listingId: s.listingId,
    grantAt: s.state === 'holding' ? s.grantAt : null,
    cooldownUntil: s.state === 'cooldown' && s.lastGrantAt !== null ? s.lastGrantAt + cooldownMs : null,
    linked: s.yandexUid !== null,
    missing,
  };
}
