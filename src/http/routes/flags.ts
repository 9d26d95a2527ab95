import { Type } from '@sinclair/typebox';
import { checkFlagValue, versionFlag } from '../../domain/events/emit.ts';
import { eventRegistry } from '../../domain/events/catalog.ts';
import { BadRequest } from '../../platform/errors.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const Value = Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean()]);
const Flag = Type.Object({ name: Type.String(), value: Value, updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]), default: Type.Boolean() });

/** Feature flags (HTTP Basic: every /admin path is behind the board's credentials, src/http/bullBoard.ts). */
export function flagRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/admin/flags', tag: 'admin', auth: 'public',
      summary: 'Feature flags (HTTP Basic), with the event-version flags producers read and their defaults',
      responses: { 200: { description: 'every stored flag, and each multi-version event flag not set yet', schema: Type.Object({ success: Type.Literal(true), flags: Type.Array(Flag) }) } },
      handler: async ({ services }) => {
        const stored = await services.flags.all();
        const flags: { name: string; value: unknown; updated_at: string | null; default: boolean }[] = stored.map((f) => ({ ...f, default: false }));
        for (const event of eventRegistry.list()) {
          const name = versionFlag(event.name);
          if (event.versions.length > 1 && !stored.some((f) => f.name === name)) flags.push({ name, value: event.versions[0]!.version, updated_at: null, default: true });
        }
        return { body: { flags: flags.sort((a, b) => a.name.localeCompare(b.name)) } };
      },
    }),
    defineRoute({
      method: 'put', path: '/admin/flags/:name', tag: 'admin', auth: 'public',
      summary: 'Set a feature flag (HTTP Basic); every process sees it within FLAGS_TTL without a restart',
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }) }),
      body: Type.Object({ value: Value }, { additionalProperties: false }),
      responses: {
        200: { description: 'stored', schema: Type.Object({ success: Type.Literal(true), name: Type.String(), value: Value }) },
        400: { description: 'bad_flag_value: e.g. an event version that is not published' },
      },
      handler: async ({ params, body, services }) => {
        const problem = checkFlagValue(params.name, body.value);
        if (problem) throw new BadRequest(problem, 'bad_flag_value');
        // Event versions are stored as numbers whichever way they came.
        const value = params.name.startsWith('events.') && params.name.endsWith('.version') ? Number(body.value) : body.value;
        await services.flags.set(params.name, value, new Date(services.clock.now()));
        return { body: { name: params.name, value } };
      },
    }),
  ];
}
