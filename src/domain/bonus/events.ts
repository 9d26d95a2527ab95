import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, envelopeSchema, type EventDef } from '../../../queues/outbox/envelope.ts';
import { TOPIC_APPEND_QUEUE } from '../events/topics.ts';

/** The listener job of every upstream bonus event: it feeds the event to the user's actor. */
export const APPLY_QUEUE = 'bonus.apply-event';

// Ids end up in ledger idempotency keys and URLs: visible ASCII only.
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' });

// Money elsewhere in the API is a JSON number or a decimal string; one schema, not an anyOf, so a
// bad price gets one plain error instead of a line per alternative.
const Price = Type.Unsafe<number | string | null>({
  type: ['number', 'string', 'null'],
  minimum: 0,
  maximum: 1e12,
  pattern: '^(0|[1-9]\\d{0,11})(\\.\\d{1,2})?$',
  description: 'a number or a decimal string ("1500.00"), or null when no price is given',
  errorMessage: 'must be a price: a number or a decimal string such as "1500.00" (0 to 1000000000000, at most two decimals), or null',
});

export const ListingPayload = Type.Object(
  {
    listing_id: Id,
    user_id: Id,
    title: Type.String({ maxLength: 1000 }),
    description: Type.String({ maxLength: 60_000 }),
    photos_count: Type.Integer({ minimum: 0, maximum: 10_000 }),
    /** null: no price given. */
    price: Price,
  },
  { additionalProperties: false },
);
export type ListingPayload = Static<typeof ListingPayload>;

export const ListingBannedPayload = Type.Object(
  { listing_id: Id, user_id: Id, reason: Type.String({ maxLength: 1000 }) },
  { additionalProperties: false },
);

export const AccountLinkedPayload = Type.Object(
  { user_id: Id, yandex_uid: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

// Few events, from outside: a topic-append row each keeps them in commit order per user.
const listeners = [APPLY_QUEUE, TOPIC_APPEND_QUEUE] as const;

export const ListingPublished = defineEvent({
  name: 'ListingPublished',
  version: 1,
  schema: ListingPayload,
  listeners,
  description: 'A listing went live; it may earn its author bonus points (seed 000)',
});

export const ListingUpdated = defineEvent({
  name: 'ListingUpdated',
  version: 1,
  schema: ListingPayload,
  listeners,
  description: "A listing's content changed (the author may have improved it); same payload as ListingPublished",
});

export const ListingBanned = defineEvent({
  name: 'ListingBanned',
  version: 1,
  schema: ListingBannedPayload,
  listeners,
  description: 'Moderation banned a listing; a bonus on hold for it is cancelled',
});

export const AccountLinked = defineEvent({
  name: 'AccountLinked',
  version: 1,
  schema: AccountLinkedPayload,
  listeners,
  description: 'The user linked a Yandex account, where bonus points can be paid',
});

export const bonusEvents: readonly EventDef[] = [ListingPublished, ListingUpdated, ListingBanned, AccountLinked];

/** The payload of the apply job: any of the bonus envelopes. */
export const BonusEnvelope = Type.Union([
  envelopeSchema(ListingPublished),
  envelopeSchema(ListingUpdated),
  envelopeSchema(ListingBanned),
  envelopeSchema(AccountLinked),
]);
export type BonusEnvelope = Static<typeof BonusEnvelope>;
