import { Type } from '@sinclair/typebox';
import { defineRoute, type AnyRoute } from '../route.ts';
import { readiness } from '../../platform/health.ts';
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
      method: 'get', path: '/readyz', tag: 'system', auth: 'public', summary: 'Redis and MySQL answer',
      responses: { 200: { description: 'ready' }, 503: { description: 'a dependency is down' } },
      handler: async ({ services }) => {
        const checks = await readiness(services);
        if (!checks.redis || !checks.mysql) throw new Unavailable(`not ready: ${JSON.stringify(checks)}`);
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
