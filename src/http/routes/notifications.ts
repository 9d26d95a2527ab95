import { Type } from '@sinclair/typebox';
import { listNotifications, type StoredNotification } from '../../domain/notifications/inbox.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const NotificationView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  title: Type.String({ description: 'push title' }),
  body: Type.String({ description: 'push text' }),
  mail_subject: Type.String(),
  mail_body: Type.String(),
  data: Type.Object({}, { additionalProperties: true }),
  created_at: Type.String({ format: 'date-time' }),
  delivered: Type.Record(Type.String(), Type.String({ format: 'date-time' }), { description: 'channel → when it was delivered there' }),
});

/** Shared by every surface that shows a notification. */
export function presentNotification(n: StoredNotification) {
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    mail_subject: n.mailSubject,
    mail_body: n.mailBody,
    data: n.data,
    created_at: n.createdAt,
    delivered: n.delivered,
  };
}

export function notificationRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/notifications', tag: 'notifications', auth: 'any',
      summary: "The caller's notifications (push and e-mail texts), newest first",
      query: Type.Object(
        {
          limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1..100, default 20' })),
          before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'an id: older ones only' })),
        },
        { additionalProperties: false },
      ),
      responses: {
        200: {
          description: 'newest first; next_before pages further back',
          schema: Type.Object({ success: Type.Literal(true), notifications: Type.Array(NotificationView), next_before: Type.Union([Type.String(), Type.Null()]) }),
        },
      },
      handler: async ({ query, claims, services }) => {
        const limit = Number(query.limit ?? 20);
        const items = await listNotifications(services.db, claims.sub, { limit, before: query.before });
        return { body: { notifications: items.map(presentNotification), next_before: items.length === limit ? items[items.length - 1]!.id : null } };
      },
    }),
  ];
}
