import { Type } from '@sinclair/typebox';
import { acceptEvent, AnyEnvelope, checkEnvelope } from '../../domain/bonus/ingest.ts';
import { upstreamEvents } from '../../domain/bonus/events.ts';
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
        400: { description: 'bad_envelope, unknown_event, unknown_event_version or invalid_payload, with the problems' },
        409: { description: 'event_id_reused: the event id was recorded with another name or payload' },
      },
      handler: async ({ body, services }) => {
        const { def, envelope } = checkEnvelope(upstreamEvents, body);
        const result = await services.outbox.transaction((trx) => acceptEvent(trx, def, envelope, new Date(services.clock.now())));
        return { body: { event_id: envelope.event_id, duplicate: result.duplicate } };
      },
    }),
  ];
}
