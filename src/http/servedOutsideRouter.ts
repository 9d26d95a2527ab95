/**
 * OpenAPI path items for what is served outside the route specs: /metrics (text), the pages
 * (HTML), Bull Board and the WebSocket upgrade. The completeness test checks every path the app
 * answers is here or in a route spec.
 */
type PathItems = Record<string, Record<string, Record<string, unknown>>>;

const html = (description: string) => ({ 200: { description, content: { 'text/html': { schema: { type: 'string' } } } } });

export function servedOutsideRouter(): PathItems {
  return {
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        tags: ['system'],
        responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/ws': {
      get: {
        summary: 'WebSocket: live chat events',
        description:
          'Upgrades to a WebSocket (processes running the ws role); the token may also come as `Sec-WebSocket-Protocol: bearer.<JWT>`. ' +
          'Frames and close codes: docs/API.md, "ws — live events". A GET without the upgrade headers is not served (404).',
        tags: ['chat'],
        parameters: [
          { name: 'room', in: 'query', required: true, schema: { type: 'string', format: 'uuid' } },
          { name: 'token', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'since', in: 'query', required: false, schema: { type: 'string' }, description: 'replay events after this event id' },
        ],
        responses: { 101: { description: 'Switching Protocols' }, 400: { description: 'bad room or since' }, 401: { description: 'no or bad token' }, 403: { description: 'origin or role not allowed' }, 503: { description: 'shutting down or chat unavailable' } },
      },
    },
    '/': { get: { summary: 'Index: links to everything served here', tags: ['pages'], responses: html('index page') } },
    '/docs/': { get: { summary: 'API reference (Swagger UI over /openapi.json)', tags: ['pages'], responses: html('Swagger UI') } },
    '/chat/': { get: { summary: 'The chat page (its scripts and styles live under /chat/)', tags: ['pages'], responses: html('chat page') } },
    '/popug/': { get: { summary: 'The popug page: dashboard with the income chart, balance and tasks (scripts under /popug/)', tags: ['pages'], responses: html('popug page') } },
    '/admin/queues': {
      get: {
        summary: 'Bull Board: queues, jobs, retries and job schedulers',
        description: 'HTTP Basic (ADMIN_USER / ADMIN_PASSWORD). The board\'s own API and assets live under /admin/queues/.',
        tags: ['pages'],
        security: [{ adminBasic: [] }],
        responses: { ...html('Bull Board'), 401: { description: 'admin credentials required' } },
      },
    },
  };
}
