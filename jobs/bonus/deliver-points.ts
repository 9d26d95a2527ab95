import { deliverPoints } from '../../src/domain/bonus/grant.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/** POSTs a paid grant to points_url; 408/429/5xx/network errors retry with backoff, other 4xx fail. */
export const deliverPointsJob = durableJob<Contracts['bonus.deliver-points']>(async (_trx, { payload, services, log }) => {
  const url = services.bonus.pointsUrl;
  if (!url) {
    log.warn({ key: payload.idempotency_key }, 'points_url is no longer set; grant stays in the ledger only');
    return { skipped: true };
  }
  await deliverPoints(url, services.bonus.pointsTimeoutMs, payload);
  return { delivered: true };
});
