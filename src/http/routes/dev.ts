import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { signToken } from '../auth/jwt.ts';
import { ROLES } from '../auth/claims.ts';
import { NotFound } from '../../platform/errors.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const DevTokenBody = Type.Object(
  {
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    sub: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 128 })),
    ttl: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86_400 })),
  },
  { additionalProperties: false },
);

/**
 * Development only (mounted when config.devTokens, which production never has): a signed token
 * for any role and sub, so the chat page and a curl session need no separate token tool.
 */
export function devRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/dev/token', tag: 'dev', auth: 'public',
      summary: 'Development only: a signed token for a role and sub (a new uuid when none is given)',
      body: DevTokenBody,
      responses: {
        201: { description: 'the token', schema: Type.Object({ success: Type.Literal(true), token: Type.String(), sub: Type.String(), role: Type.String(), expires_in: Type.Integer() }) },
      },
      handler: async ({ body, services }) => {
        const { config } = services;
        if (!config.devTokens || config.env === 'production') throw new NotFound();
        const sub = body.sub ?? randomUUID();
        const ttl = body.ttl ?? 86_400;
        const token = await signToken(config.jwtSecret, { sub, role: body.role, ...(body.name ? { name: body.name } : {}) }, ttl);
        return { status: 201, body: { token, sub, role: body.role, expires_in: ttl } };
      },
    }),
  ];
}
