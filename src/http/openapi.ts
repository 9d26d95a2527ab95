import type { TSchema } from '@sinclair/typebox';
import type { AnyRoute } from './route.ts';

/** TypeBox schemas carry symbols; JSON round-tripping leaves plain JSON Schema. */
const plain = (schema: TSchema): unknown => JSON.parse(JSON.stringify(schema)) as unknown;

const ERROR_SCHEMA = {
  type: 'object',
  required: ['success', 'code', 'message'],
  properties: { success: { const: false }, code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
};

function parameters(route: AnyRoute): unknown[] {
  const out: unknown[] = [];
  const add = (schema: TSchema | undefined, where: 'query' | 'path') => {
    const props = (schema?.properties ?? {}) as Record<string, TSchema>;
    const required = new Set<string>((schema?.required as string[] | undefined) ?? []);
    for (const [name, s] of Object.entries(props)) out.push({ name, in: where, required: where === 'path' || required.has(name), schema: plain(s) });
  };
  add(route.query as TSchema | undefined, 'query');
  add(route.params as TSchema | undefined, 'path');
  if (route.idempotent) {
    out.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 128 }, description: 'Same key + same body replays the first answer; another body is 409' });
  }
  return out;
}

/** A path template as OpenAPI writes it: /chat/donations/:id → /chat/donations/{id}. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z_]+)/g, '{$1}');

/** A stable, unique name per method and path: POST /chat/donat/add → postChatDonatAdd. */
export function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `by-${segment.slice(1)}` : segment.startsWith('{') ? `by-${segment.slice(1, -1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  const camel = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${method.toLowerCase()}${camel || 'Root'}`;
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  system: 'Health, readiness, metrics and this description',
  pages: 'Pages for people: the index, the API reference, the chat page, Bull Board',
  dev: 'Development helpers (off in production)',
};

/**
 * The OpenAPI 3.1 document, built from the same route specs the router mounts plus the paths
 * served outside the router (pages, /metrics, the WebSocket upgrade), given as path items.
 */
export function buildOpenApi(routes: AnyRoute[], extraPaths: Record<string, Record<string, Record<string, unknown>>> = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const auth = route.auth as string | readonly string[];
    for (const path of [route.path, ...(route.aliases ?? [])]) {
      const openPath = openApiPath(path);
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(route.responses)) {
        responses[status] = { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: plain(r.schema) } } } : {}) };
      }
      for (const status of auth === 'public' ? ['400'] : ['400', '401', '403']) {
        responses[status] ??= { description: 'error', content: { 'application/json': { schema: ERROR_SCHEMA } } };
      }
      (paths[openPath] ??= {})[route.method] = {
        operationId: operationId(route.method, path),
        summary: route.summary,
        tags: [route.tag],
        ...(auth === 'public' ? {} : { security: auth === 'optional' ? [{}, { bearer: [] }] : [{ bearer: [] }] }),
        ...(Array.isArray(auth) ? { description: `Roles: ${auth.join(', ')}` } : {}),
        parameters: parameters(route),
        ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(route.body as TSchema) } } } } : {}),
        responses,
      };
    }
  }
  for (const [path, item] of Object.entries(extraPaths)) {
    for (const [method, operation] of Object.entries(item)) (paths[path] ??= {})[method] = { operationId: operationId(method, path), ...operation };
  }
  const tags = [...new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => (op as { tags?: string[] }).tags ?? [])))];
  // The modules are the tags that are not plumbing: only what this build serves is named.
  const modules = tags.filter((tag) => !(tag in TAG_DESCRIPTIONS));
  return {
    openapi: '3.1.0',
    info: { title: 'Conveyor', version: '1.0.0', description: `Queue-based job platform. Modules: ${modules.join(', ')}.` },
    tags: tags.map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, adminBasic: { type: 'http', scheme: 'basic' } }, schemas: { Error: ERROR_SCHEMA } },
    paths,
  };
}
