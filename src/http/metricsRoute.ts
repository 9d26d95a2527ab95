import { createHash, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Services } from '../services.ts';
import { ScrapeGauges } from '../../queues/scrape.ts';
import { contracts } from '../../queues/contracts/index.ts';

// Digests have one length whatever the token's, so the comparison takes the same time for any guess.
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * GET /metrics: Prometheus text. With METRICS_TOKEN set, only `Authorization: Bearer <token>`
 * may read it (401 otherwise); the queue and outbox gauges are reused for METRICS_CACHE.
 */
export function mountMetrics(router: Router, services: Services): void {
  const { metrics, config } = services;
  const gauges = new ScrapeGauges(services, Object.keys(contracts), config.metrics.cacheMs);
  const expected = config.metrics.token === null ? null : digest(`Bearer ${config.metrics.token}`);
  router.get('/metrics', async (ctx) => {
    if (expected && !timingSafeEqual(digest(ctx.get('authorization')), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { success: false, code: 'unauthorized', message: 'metrics need "Authorization: Bearer <METRICS_TOKEN>"' };
      return;
    }
    await gauges.refresh();
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
