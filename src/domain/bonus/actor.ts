import { Type, type Static } from '@sinclair/typebox';
import type { Trx } from '../../platform/db.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { createNotification } from '../notifications/inbox.ts';
import type { BonusEnvelope, ListingPayload } from './events.ts';
import { payGrant } from './grant.ts';
import { transition, type ActorEvent, type ActorState, type Effect, type Transition } from './machine.ts';
import { renderNotice } from './notices.ts';
import type { BonusSettings } from './settings.ts';
import { closeOpenListings, findListing, lockState, nextGoodListing, saveListing, saveState, setListingStatus } from './store.ts';

/** The fraud-hold timer: a durable delayed job that tells the actor its hold is over. */
export const HOLD_QUEUE = 'bonus.hold-expired';
export const HoldPayload = Type.Object(
  { user_id: Type.String({ minLength: 1, maxLength: 64 }), listing_id: Type.String({ minLength: 1, maxLength: 64 }), seq: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type HoldPayload = Static<typeof HoldPayload>;

export interface ActorDeps {
  now: number;
  settings: BonusSettings;
  /** Notification channels to deliver on (besides the inbox). */
  channels: Iterable<string>;
}

/** The actor's dependencies from the process's parts (services), read fresh per transaction attempt. */
export function actorDepsOf(parts: { clock: { now(): number }; bonus: BonusSettings; notifications: { channels: { keys(): Iterable<string> } } }): ActorDeps {
  return { now: parts.clock.now(), settings: parts.bonus, channels: [...parts.notifications.channels.keys()] };
}

/** Turns an upstream envelope into the actor's event, and names the actor (the user). */
export function actorEvent(envelope: BonusEnvelope): { userId: string; event: ActorEvent } {
  switch (envelope.event_name) {
    case 'ListingPublished':
    case 'ListingUpdated': {
      const p = envelope.payload as ListingPayload;
      return {
        userId: p.user_id,
        event: {
          type: 'listing',
          listingId: p.listing_id,
          content: { title: p.title, description: p.description, photosCount: p.photos_count, price: p.price === null ? null : Number(p.price) },
          producedAt: Date.parse(envelope.produced_at),
        },
      };
    }
    case 'ListingBanned': {
      const p = envelope.payload as { listing_id: string; user_id: string };
      return { userId: p.user_id, event: { type: 'banned', listingId: p.listing_id } };
    }
    case 'AccountLinked': {
      const p = envelope.payload as { user_id: string; yandex_uid: string };
      return { userId: p.user_id, event: { type: 'linked', yandexUid: p.yandex_uid } };
    }
    default:
      throw new Error(`not a bonus event: ${envelope.event_name}`);
  }
}

/**
 * Feeds one event to a user's actor in the caller's transaction: locks the user's row (so events
 * for one user apply one at a time), runs the pure transition, stores the result and carries out
 * its effects. Outbox rows it writes (hold timers, notifications, deliveries) need a relay kick
 * after the commit.
 */
export async function applyToActor(trx: Trx, deps: ActorDeps, userId: string, event: ActorEvent): Promise<Transition> {
  const { now, settings } = deps;
  const state = await lockState(trx, userId, now);
  const listingId = event.type === 'listing' || event.type === 'banned' ? event.listingId : null;
  const listing = listingId === null ? null : await findListing(trx, userId, listingId);
  // Only an event about the candidate can make it fall through to the next good listing.
  const aboutCandidate = listingId !== null && listingId === state.listingId && (state.state === 'holding' || state.state === 'waiting_link');
  const next = aboutCandidate ? await nextGoodListing(trx, userId, listingId) : null;

  const result = transition(state, event, { now, rules: settings, listing, next });
  // A fallback listing or a repeat changes nothing: skip the write (the hot-user path).
  if (!sameState(state, result.state)) await saveState(trx, userId, result.state, now);
  if (result.listing) await saveListing(trx, userId, result.listing, now);
  for (const effect of result.effects) await runEffect(trx, deps, userId, effect);
  return result;
}

function sameState(a: ActorState, b: ActorState): boolean {
  return (
    a.state === b.state && a.listingId === b.listingId && a.grantAt === b.grantAt && a.holdSeq === b.holdSeq && a.yandexUid === b.yandexUid &&
    a.lastGrantAt === b.lastGrantAt && a.pointsGranted === b.pointsGranted && a.problems.join(',') === b.problems.join(',')
  );
}

async function runEffect(trx: Trx, deps: ActorDeps, userId: string, effect: Effect): Promise<void> {
  const { now, settings } = deps;
  switch (effect.type) {
    case 'schedule_hold': {
      const payload: HoldPayload = { user_id: userId, listing_id: effect.listingId, seq: effect.seq };
      await writeOutbox(trx, [{ queue: HOLD_QUEUE, payload, version: 1, availableAt: new Date(effect.at) }], new Date(now));
      return;
    }
    case 'grant':
      await payGrant(trx, { userId, listingId: effect.listingId, points: effect.points, yandexUid: effect.yandexUid, now, pointsUrl: settings.pointsUrl });
      return;
    case 'set_status':
      await setListingStatus(trx, userId, effect.listingId, effect.status, now);
      return;
    case 'close_open_listings':
      await closeOpenListings(trx, userId, effect.except, now);
      return;
    case 'notify':
      await createNotification(trx, renderNotice(userId, effect.notice, settings.quality), { channels: deps.channels, now });
      return;
  }
}
