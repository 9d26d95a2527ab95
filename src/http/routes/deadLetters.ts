import { Type } from '@sinclair/typebox';
import { listDeadRows, reviveDeadRow } from '../../../queues/outbox/dead.ts';
import { contractsByQueue } from '../../../queues/contracts/index.ts';
import { BadRequest, Conflict, NotFound } from '../../platform/errors.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const DeadLetter = Type.Object({
  id: Type.Integer(),
  queue: Type.String(),
  event_id: Type.Union([Type.String(), Type.Null()]),
  event_name: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Unknown(),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  dead_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/**
 * Dead letters are the outbox rows whose job failed for good (attempts spent, a permanent error, a
 * payload or event that fails its schema). HTTP Basic: every /admin path is behind the board's
 * credentials (src/http/bullBoard.ts).
 */
export function deadLetterRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/admin/dead-letters', tag: 'admin', auth: 'public',
      summary: 'Outbox rows whose job failed for good, oldest first, with their reason, attempts and last error (HTTP Basic)',
      query: Type.Object(
        {
          queue: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          limit: Type.Optional(Type.String({ pattern: '^(1000|[1-9][0-9]{0,2})$', description: '1 to 1000, default 100' })),
          after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'page on after this id' })),
        },
        { additionalProperties: false },
      ),
      responses: {
        200: { description: 'dead letters; `after` = the last id pages on', schema: Type.Object({ success: Type.Literal(true), dead_letters: Type.Array(DeadLetter) }) },
        400: { description: 'bad_params, or unknown_queue' },
      },
      handler: async ({ query, services }) => {
        if (query.queue !== undefined && !contractsByQueue.has(query.queue)) throw new BadRequest(`no queue named ${query.queue}`, 'unknown_queue');
        const rows = await listDeadRows(services.db, { ...(query.queue ? { queue: query.queue } : {}), limit: Number(query.limit ?? 100), afterId: Number(query.after ?? 0) });
        return {
          body: {
            dead_letters: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString(), dead_at: r.dead_at?.toISOString() ?? null })),
          },
        };
      },
    }),
    defineRoute({
      method: 'post', path: '/admin/dead-letters/:id/replay', tag: 'admin', auth: 'public',
      summary: 'Run a dead letter again through the same checks (HTTP Basic); its effect still happens once',
      params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) }),
      responses: {
        202: { description: 'the row is back in flight; its job runs again', schema: Type.Object({ success: Type.Literal(true), id: Type.Integer(), status: Type.Literal('replaying') }) },
        404: { description: 'not_found: no outbox row with that id' },
        409: { description: 'not_dead: the row is not dead (already replayed, or done); job_running: its job is still running (its failure being filed, or a retry under way): try again in a moment' },
      },
      handler: async ({ params, services }) => {
        const id = Number(params.id);
        const outcome = await reviveDeadRow({ db: services.db, queues: services.queues, contracts: contractsByQueue, now: () => services.clock.now() }, id);
        if (outcome === 'not_dead' && !(await services.db('outbox').where('id', id).first('id'))) throw new NotFound(`no outbox row ${id}`);
        if (outcome === 'not_dead') throw new Conflict(`outbox row ${id} is not a dead letter`, 'not_dead');
        if (outcome === 'job_running') throw new Conflict(`outbox row ${id}'s job is still running; try again in a moment`, 'job_running');
        return { status: 202, body: { id, status: 'replaying' } };
      },
    }),
  ];
}
