import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { tokenRules, signToken } from '../auth/jwt.ts';
import { ROLES, UUID_PATTERN, type TokenRole } from '../auth/claims.ts';
import { topUp } from '../../domain/chat/accounts.ts';
import { ensureParticipantIn } from '../../domain/chat/participants.ts';
import { withTransaction } from '../../platform/db.ts';
import { Forbidden } from '../../platform/errors.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

/**
 * The roles the pages need to try Conveyor out. admin and service are never minted: an admin
 * token moves money and a service token injects upstream events.
 */
export const DEV_ROLES: readonly TokenRole[] = ['client', 'model', 'employee', 'manager', 'accountant', 'author', 'candidate', 'driver'];

const DevTokenBody = Type.Object(
  {
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    sub: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
    name: Type.Optional(Type.String({ maxLength: 128 })),
    ttl: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86_400 })),
  },
  { additionalProperties: false },
);

const DEV_TOP_UP_MINOR = 100_00;

/**
 * Mounted only when config.devTokens (DEV_TOKENS=true, or development on the built-in secret;
 * never production): a signed token for a page role, so the chat page and a curl session need no
 * separate token tool, and a top-up of the caller's own wallet in place of an admin token.
 */
export function devRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/dev/token', tag: 'dev', auth: 'public',
      summary: `Development only: a signed token for a role (${DEV_ROLES.join(', ')}) and sub (a new uuid when none is given)`,
      body: DevTokenBody,
      responses: {
        201: { description: 'the token', schema: Type.Object({ success: Type.Literal(true), token: Type.String(), sub: Type.String(), role: Type.String(), expires_in: Type.Integer() }) },
        403: { description: 'admin and service tokens are never minted (code role_not_mintable)' },
      },
      handler: async ({ body, services }) => {
        const { config } = services;
        if (!DEV_ROLES.includes(body.role)) throw new Forbidden(`dev tokens are never minted for role "${body.role}"`, 'role_not_mintable');
        const sub = body.sub ?? randomUUID();
        const ttl = body.ttl ?? 86_400;
        const token = await signToken(tokenRules(config), { sub, role: body.role, ...(body.name ? { name: body.name } : {}) }, ttl);
        return { status: 201, body: { token, sub, role: body.role, expires_in: ttl } };
      },
    }),
    defineRoute({
      method: 'post', path: '/dev/top-up', tag: 'dev', auth: ['client', 'model'],
      summary: "Development only: puts 100.00 on the caller's own chat wallet (from the system account)",
      responses: { 201: { description: 'applied', schema: Type.Object({ success: Type.Literal(true), transfer_id: Type.Integer(), balance: Type.String() }) } },
      handler: async ({ claims, services }) => {
        const applied = await withTransaction(services.db, async (trx) => topUp(trx, await ensureParticipantIn(trx, claims.role === 'model' ? 'model' : 'client', claims.sub, claims.name ?? null), DEV_TOP_UP_MINOR));
        return { status: 201, body: applied };
      },
    }),
  ];
}
