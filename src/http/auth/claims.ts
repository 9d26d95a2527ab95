import { Type, type Static } from '@sinclair/typebox';

export const ROLES = ['client', 'model', 'employee', 'manager', 'accountant', 'admin', 'driver', 'service', 'author', 'candidate'] as const;
export type TokenRole = (typeof ROLES)[number];

/** A canonical uuid: lowercase hex in 8-4-4-4-12. Ids compare byte for byte, so one spelling only. */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const UUID_RE = new RegExp(UUID_PATTERN);
export const isCanonicalUuid = (value: string): boolean => UUID_RE.test(value);

/** The claims Conveyor reads. Identity claims (user_id, db_id, ...) are kept for the modules that need them. */
export const ClaimsSchema = Type.Object(
  {
    sub: Type.String({ pattern: UUID_PATTERN }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    exp: Type.Integer(),
    name: Type.Optional(Type.String({ maxLength: 128 })),
    user_id: Type.Optional(Type.String({ maxLength: 128 })),
    uid: Type.Optional(Type.String({ maxLength: 128 })),
    bound_uids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 })),
    phone_id: Type.Optional(Type.String({ maxLength: 128 })),
    db_id: Type.Optional(Type.String({ maxLength: 128 })),
    uuid: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: true },
);
export type Claims = Static<typeof ClaimsSchema>;
