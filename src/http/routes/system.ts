import { Type } from '@sinclair/typebox';
import { defineRoute, type AnyRoute } from '../route.ts';
import { readiness } from '../../platform/health.ts';

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
        if (checks.redis.ok && checks.mysql.ok) return { body: { status: 'ready', checks } };
        // The error shape, plus each dependency's check as an object an orchestrator can read.
        const down = Object.entries(checks).filter(([, c]) => !c.ok).map(([name, c]) => (c.error ? `${name} (${c.error})` : name));
        return {
          status: 503,
          raw: true,
          headers: { 'Retry-After': '1' },
          body: { success: false, code: 'unavailable', message: `not ready: ${down.join(', ')}`, checks },
        };
      },
    }),
    defineRoute({
      method: 'get', path: '/openapi.json', tag: 'system', auth: 'public', summary: 'This document',
      responses: { 200: { description: 'OpenAPI 3.1', schema: Type.Object({}) } },
      handler: async () => ({ body: getOpenApi(), raw: true }),
    }),
  ];
}
