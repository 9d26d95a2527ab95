import { Type } from '@sinclair/typebox';
import { explain, initialState, STATES } from '../../domain/bonus/machine.ts';
import { readState } from '../../domain/bonus/store.ts';
import { formatMoney } from '../../domain/ledger/money.ts';
import { Forbidden } from '../../platform/errors.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const Missing = Type.Union(['publish_listing', 'link_account', 'cooldown', 'min_photos', 'min_description', 'require_price'].map((m) => Type.Literal(m)));

const BonusStatus = Type.Object({
  success: Type.Literal(true),
  user_id: Type.String(),
  state: Type.Union(STATES.map((s) => Type.Literal(s))),
  listing_id: Type.Optional(Type.String({ description: 'holding/waiting_link: the candidate; rejected: the listing that failed; cooldown: the one paid' })),
  grant_at: Type.Optional(Type.String({ format: 'date-time', description: 'holding: when the fraud hold ends' })),
  cooldown_until: Type.Optional(Type.String({ format: 'date-time' })),
  linked: Type.Boolean(),
  points_granted: Type.String({ description: 'decimal string, all grants so far' }),
  missing: Type.Array(Missing),
});

export function bonusRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/bonus/users/:id', tag: 'bonus', auth: 'any',
      summary: "A user's bonus state and what is missing for the next bonus (the user themself or admin)",
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      responses: { 200: { description: 'the state now', schema: BonusStatus } },
      handler: async ({ params, claims, services }) => {
        if (claims.sub !== params.id && claims.role !== 'admin') throw new Forbidden('only the user themself or an admin may see this', 'forbidden');
        const state = (await readState(services.db, params.id)) ?? initialState;
        const x = explain(state, services.clock.now(), services.bonus.cooldownMs);
        const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
        return {
          body: {
            user_id: params.id,
            state: x.state,
            ...(x.listingId !== null ? { listing_id: x.listingId } : {}),
            ...(x.grantAt !== null ? { grant_at: iso(x.grantAt) } : {}),
            ...(x.cooldownUntil !== null ? { cooldown_until: iso(x.cooldownUntil) } : {}),
            linked: x.linked,
            points_granted: formatMoney(state.pointsGranted),
            missing: x.missing,
          },
        };
      },
    }),
  ];
}
