import { Type, type Static } from '@sinclair/typebox';

export const ROLES = ['client', 'model', 'employee', 'manager', 'accountant', 'admin', 'driver', 'service', 'author', 'candidate'] as const;
export type TokenRole = (typeof ROLES)[number];

/** The claims Conveyor reads. Identity claims (user_id, db_id, ...) are kept for the modules that need them. */
export const ClaimsSchema = Type.Object(
  {
    sub: Type.String({ minLength: 1, maxLength: 64 }),
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
