import { Type } from '@sinclair/typebox';
import { defineRoute, type AnyRoute } from '../route.ts';
import { isReady, readiness } from '../../platform/health.ts';
import { Unavailable } from '../../platform/errors.ts';

/** Health, readiness and metrics: what an orchestrator and Prometheus need. */
export function systemRoutes(getOpenApi: () => Record<string, unknown>): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/healthz', tag: 'system', auth: 'public', summary: 'The process is up',
      responses: { 200: { description: 'up' } },
      handler: async () => ({ body: { status: 'ok' } }),
    }),
    defineRoute({
      method: 'get', path: '/readyz', tag: 'system', auth: 'public', summary: 'Redis and MySQL answer, and Redis does not evict keys',
      responses: { 200: { description: 'ready' }, 503: { description: 'a dependency is down' } },
      handler: async ({ services }) => {
        const checks = await readiness(services);
        if (!isReady(checks)) {
          const why = checks.redis && checks.mysql ? `; Redis maxmemory-policy is ${checks.redis_eviction_policy}, queues need noeviction` : '';
          throw new Unavailable(`not ready: ${JSON.stringify(checks)}${why}`);
        }
        return { body: { status: 'ready', checks } };
      },
    }),
    defineRoute({
      method: 'get', path: '/openapi.json', tag: 'system', auth: 'public', summary: 'This document',
      responses: { 200: { description: 'OpenAPI 3.1', schema: Type.Object({}) } },
      handler: async () => ({ body: getOpenApi(), raw: true }),
    }),
  ];
}
