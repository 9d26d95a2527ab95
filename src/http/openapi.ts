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

/** The OpenAPI 3.1 document, built from the same route specs the router mounts. */
export function buildOpenApi(routes: AnyRoute[], extraPaths: Record<string, unknown> = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const auth = route.auth as string | readonly string[];
    for (const path of [route.path, ...(route.aliases ?? [])]) {
      const openPath = path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(route.responses)) {
        responses[status] = { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: plain(r.schema) } } } : {}) };
      }
      for (const status of auth === 'public' ? ['400'] : ['400', '401', '403']) {
        responses[status] ??= { description: 'error', content: { 'application/json': { schema: ERROR_SCHEMA } } };
      }
      (paths[openPath] ??= {})[route.method] = {
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
  return {
    openapi: '3.1.0',
    info: { title: 'Conveyor', version: '1.0.0', description: 'Queue-based job platform: mark-notify, chat, bonus, popug, hiring' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }, schemas: { Error: ERROR_SCHEMA } },
    paths: { ...paths, ...extraPaths },
  };
}
