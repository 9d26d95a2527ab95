import { hash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';

export const SeenKind = Type.Union([Type.Literal('client'), Type.Literal('driver'), Type.Literal('unauthorized')]);

export const ClientIdentity = Type.Object(
  { user_id: Type.String(), uid: Type.Optional(Type.String()), bound_uids: Type.Array(Type.String()), phone_id: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const DriverIdentity = Type.Object({ db_id: Type.String(), uuid: Type.String() }, { additionalProperties: false });
export const NoIdentity = Type.Object({}, { additionalProperties: false });

/** What mark-notify delivers: the same fields go to HTTP consumers and to topics. */
export const SeenFact = Type.Object(
  {
    event_id: Type.String({ minLength: 1 }),
    tag: Type.String({ minLength: 1, maxLength: 64 }),
    id: Type.String({ minLength: 1, maxLength: 256 }),
    kind: SeenKind,
    identity: Type.Union([ClientIdentity, DriverIdentity, NoIdentity]),
    seen_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type SeenFact = Static<typeof SeenFact>;
export type SeenKind = Static<typeof SeenKind>;
export type Identity = SeenFact['identity'];

/** The key a fact is remembered under: who (kind + stable identity) saw what (tag + id). */
export function seenKey(kind: SeenKind, identity: Identity, tag: string, id: string): string {
  const who = 'user_id' in identity ? identity.user_id : 'db_id' in identity ? `${identity.db_id}/${identity.uuid}` : '';
  return hash('sha256', JSON.stringify([kind, who, tag, id]), 'base64url');
}
