import { Type } from '@sinclair/typebox';
import { acceptEvent, checkEnvelope } from '../../domain/bonus/ingest.ts';
import { AnyEnvelope } from '../../../queues/outbox/envelope.ts';
import { upstreamEvents } from '../../domain/events/catalog.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const names = [...new Set(upstreamEvents.map((e) => `${e.name} v${e.version}`))].join(', ');

export function eventRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/events', tag: 'events', auth: ['service'],
      summary: `Accept an upstream event envelope (${names}); deduplicated by event_id`,
      body: AnyEnvelope,
      responses: {
        200: { description: 'recorded and queued for its listeners, or a repeat of an event already recorded', schema: Type.Object({ success: Type.Literal(true), event_id: Type.String(), duplicate: Type.Boolean() }) },
        400: { description: 'bad_params (envelope shape), unknown_schema (unknown name or version) or invalid_payload, naming the failing fields' },
        409: { description: 'event_id_reused: the event id was recorded with another name or payload' },
      },
      handler: async ({ body, services, trace }) => {
        const { def, envelope } = checkEnvelope(upstreamEvents, body);
        const result = await services.outbox.transaction((trx) => acceptEvent(trx, def, envelope, new Date(services.clock.now())), { trace });
        return { body: { event_id: envelope.event_id, duplicate: result.duplicate } };
      },
    }),
  ];
}
