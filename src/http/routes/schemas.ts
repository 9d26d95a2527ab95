import { Type } from '@sinclair/typebox';
import { eventRegistry } from '../../domain/events/catalog.ts';
import { UnknownSchema } from '../../domain/events/registry.ts';
import { NotFound } from '../../platform/errors.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const Params = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), version: Type.String({ minLength: 1, maxLength: 16 }) });

/** The registry's document of name/version, or 404 unknown_schema (a version is a plain decimal integer). */
function versionOf(params: { name: string; version: string }): number {
  const version = /^(0|[1-9]\d{0,8})$/.test(params.version) ? Number(params.version) : NaN;
  if (Number.isNaN(version) || !eventRegistry.event(params.name)?.versions.some((d) => d.version === version)) {
    throw new NotFound(`no schema ${params.name} v${params.version}`, 'unknown_schema');
  }
  return version;
}

const SchemaError = Type.Object({ path: Type.String({ description: 'the failing field, dotted from the envelope (payload.title)' }), message: Type.String() });

export function schemaRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/schemas', tag: 'schemas', auth: 'public',
      summary: 'Every registered event: its published versions and its topic',
      responses: {
        200: {
          description: 'the registry',
          schema: Type.Object({ success: Type.Literal(true), events: Type.Array(Type.Object({ name: Type.String(), versions: Type.Array(Type.Integer()), topic: Type.String() })) }),
        },
      },
      handler: async () => ({
        body: { events: eventRegistry.list().map((e) => ({ name: e.name, versions: e.versions.map((d) => d.version), topic: e.topic })) },
      }),
    }),
    defineRoute({
      method: 'get', path: '/schemas/:name/:version', tag: 'schemas', auth: 'public',
      summary: "One version's envelope JSON Schema in seed 001's form (the document committed under schemas/)",
      params: Params,
      responses: { 200: { description: 'the JSON Schema document itself (no success wrapper)' }, 404: { description: 'unknown_schema' } },
      handler: async ({ params }) => ({ body: eventRegistry.document(params.name, versionOf(params)), raw: true }),
    }),
    defineRoute({
      method: 'post', path: '/schemas/:name/:version/validate', tag: 'schemas', auth: 'public',
      summary: 'Check an envelope against one version of an event; the answer lists every failing field',
      params: Params,
      body: Type.Unknown({ description: 'an envelope {event_id, event_version, event_name, produced_at, payload}' }),
      responses: {
        200: { description: 'the verdict', schema: Type.Object({ success: Type.Literal(true), valid: Type.Boolean(), errors: Type.Array(SchemaError) }) },
        404: { description: 'unknown_schema' },
      },
      handler: async ({ params, body }) => {
        const version = versionOf(params);
        try {
          const result = eventRegistry.validate(params.name, version, body);
          return { body: { valid: result.valid, errors: result.errors } };
        } catch (err) {
          if (err instanceof UnknownSchema) throw new NotFound(err.message, 'unknown_schema');
          throw err;
        }
      },
    }),
  ];
}
