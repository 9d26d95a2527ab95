import { Type, type Static } from '@sinclair/typebox';
import { Forbidden, Unauthorized } from '../../platform/errors.ts';
import { oncePer } from '../../platform/oncePer.ts';
import { takeRateToken } from '../../platform/rateLimit.ts';
import { lookupSeen, recordSeen, type SeenDeps } from '../../domain/notify/recordSeen.ts';
import { findSeen, SeenBatcher } from '../../domain/notify/seenBatcher.ts';
import type { ClientIdentity, Identity, SeenKind } from '../../domain/notify/seenFact.ts';
import type { Services } from '../../services.ts';
import type { Claims } from '../auth/claims.ts';
import { defineRoute, type AnyRoute } from '../route.ts';
import { notifyContracts } from '../../../queues/contracts/notify.ts';

const SeenBody = Type.Object(
  { tag: Type.String({ minLength: 1, maxLength: 64 }), id: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

/** The caller's kind and identity come from the token only, never from the body. */
export function identityOf(claims: Claims | null): { kind: SeenKind; identity: Identity } {
  if (!claims) return { kind: 'unauthorized', identity: {} };
  if (claims.role === 'client') {
    if (!claims.user_id) throw new Unauthorized('a client token must carry user_id', 'invalid_token');
    // Built field by field: spreading conditional objects is dear on the API's hottest path.
    const identity: Static<typeof ClientIdentity> = { user_id: claims.user_id, bound_uids: claims.bound_uids ?? [] };
    if (claims.uid) identity.uid = claims.uid;
    if (claims.phone_id) identity.phone_id = claims.phone_id;
    return { kind: 'client', identity };
  }
  if (claims.role === 'driver') {
    if (!claims.db_id || !claims.uuid) throw new Unauthorized('a driver token must carry db_id and uuid', 'invalid_token');
    return { kind: 'driver', identity: { db_id: claims.db_id, uuid: claims.uuid } };
  }
  throw new Forbidden(`role "${claims.role}" does not mark notifications`, 'forbidden_role');
}

// Built once per process, not per request: one batcher per api process.
const seenDeps = oncePer(buildSeenDeps);

function buildSeenDeps(services: Services): SeenDeps {
  const { redis, config, log } = services;
  const contract = notifyContracts['notify.deliver-seen-batch'];
  const batcher = new SeenBatcher({
    redis,
    prefix: config.queuePrefix,
    max: config.notifyBatchMax,
    // The job of the batch's first fact; its facts' own jobs (notify.deliver-seen) reuse their event ids.
    addBatch: async (facts, requestIds) => {
      await services.queues.enqueue(contract, { facts }, { jobId: facts[0]!.event_id, eventId: facts[0]!.event_id, requestIds });
    },
    onForgetFailed: (err, keys, final) => log[final ? 'error' : 'warn']({ err, keys, final }, 'could not forget the seen keys of a batch that was not queued'),
    onConfirmFailed: (err, keys) => log.warn({ err, keys }, 'could not confirm the seen keys of a queued batch: repeats answer 503 until the marks lapse'),
  });
  return {
    integrations: services.notify.integrations,
    findSeen: (key) => findSeen(redis, config.queuePrefix, key),
    now: () => services.clock.now(),
    remember: (key, fact, ttlMs, requestId) => batcher.submit(key, fact, ttlMs, requestId),
  };
}

export function notifyRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/4.0/mark-notify/v1/seen', tag: 'notify', auth: 'optional',
      summary: 'Record that the caller saw a notification; 200 once its delivery is queued',
      body: SeenBody,
      responses: {
        200: { description: 'queued (or a repeat inside the remember window)', schema: Type.Object({ success: Type.Literal(true), event_id: Type.String(), deduplicated: Type.Boolean() }) },
        429: { description: 'rate_limited: anonymous callers per client IP (NOTIFY_ANONYMOUS_PER_MINUTE)' },
      },
      handler: async ({ ctx, body, claims, services, trace }) => {
        // A token is signed, so it is limited by whoever issued it; anonymous callers by their IP.
        if (!claims) await takeRateToken({ redis: services.redis, prefix: services.config.queuePrefix }, 'notify:anonymous', ctx.ip, services.config.notifyAnonymousPerMinute);
        const { kind, identity } = identityOf(claims);
        const result = await recordSeen(seenDeps(services), { kind, identity, tag: body.tag, id: body.id, requestId: trace.request_id });
        return { body: result };
      },
    }),
    defineRoute({
      method: 'get', path: '/4.0/mark-notify/v1/seen', tag: 'notify', auth: 'optional',
      summary: "Whether the caller's identity has seen this notification inside its remember window",
      query: SeenBody,
      responses: { 200: { description: 'seen or not', schema: Type.Object({ success: Type.Literal(true), seen: Type.Boolean(), seen_at: Type.Union([Type.String(), Type.Null()]), event_id: Type.Union([Type.String(), Type.Null()]) }) } },
      handler: async ({ query, claims, services }) => {
        const record = await lookupSeen(seenDeps(services), { ...identityOf(claims), tag: query.tag, id: query.id });
        return { body: { seen: record !== null, seen_at: record?.seen_at ?? null, event_id: record?.event_id ?? null } };
      },
    }),
  ];
}
