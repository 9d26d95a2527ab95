/** Where a person goes: listed on GET / and logged once at start, one line each. */
export interface Place {
  title: string;
  path: string;
  scheme?: 'ws';
  description: string;
}

export function places(opts: { api: boolean; ws: boolean }): Place[] {
  const api: Place[] = opts.api
    ? [
        { title: 'API', path: '/', description: 'this index of everything served here' },
        { title: 'API reference', path: '/docs/', description: 'every route, browsable (Swagger UI)' },
        { title: 'OpenAPI', path: '/openapi.json', description: 'the same description as an OpenAPI 3.1 document' },
        { title: 'Bull Board', path: '/admin/queues', description: 'queues, jobs, retries, schedulers (HTTP Basic: ADMIN_USER)' },
        { title: 'Chat page', path: '/chat/', description: 'a chat room in the browser, with development tokens' },
        { title: 'Popug page', path: '/popug/', description: 'the popug dashboard (income chart) and your tasks, with development tokens' },
      ]
    : [];
  return [
    ...api,
    ...(opts.ws ? [{ title: 'WebSocket', path: '/ws', scheme: 'ws' as const, description: 'live chat events (see docs/API.md)' }] : []),
    { title: 'Metrics', path: '/metrics', description: 'Prometheus metrics' },
    { title: 'Readiness', path: '/readyz', description: 'Redis and MySQL answer' },
  ];
}
