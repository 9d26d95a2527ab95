import fc from 'fast-check';

type Json = Record<string, unknown>;

const CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.split('');

/**
 * A fast-check arbitrary of values a JSON Schema document accepts: objects, strings (lengths,
 * date-time, patterns), integers and numbers (bounds), booleans, null, const, anyOf and arrays, `$ref`s into
 * the document's `$defs`. Enough for the registry's payloads; anything else throws, so a schema
 * using a keyword it does not know is noticed rather than sampled wrongly.
 */
export function arbitraryOf(schema: Json, root: Json = schema): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '');
    return arbitraryOf((root.$defs as Record<string, Json>)[name]!, root);
  }
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as Json[]).map((s) => arbitraryOf(s, root)));
  // `type: ["number", "string", "null"]`: each type with the same keywords.
  if (Array.isArray(schema.type)) return fc.oneof(...(schema.type as string[]).map((type) => arbitraryOf({ ...schema, type }, root)));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: (schema.minimum as number | undefined) ?? -1_000_000, max: Math.min((schema.maximum as number | undefined) ?? 1_000_000, Number.MAX_SAFE_INTEGER) });
    case 'number':
      return fc.double({ min: (schema.minimum as number | undefined) ?? -1e6, max: (schema.maximum as number | undefined) ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string': {
      if (schema.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(Date.UTC(9000, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString());
      if (typeof schema.pattern === 'string') {
        const max = (schema.maxLength as number | undefined) ?? Infinity;
        return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= ((schema.minLength as number | undefined) ?? 0) && s.length <= max);
      }
      const minLength = (schema.minLength as number | undefined) ?? 0;
      return fc.string({ unit: fc.constantFrom(...CHARS), minLength, maxLength: Math.max(minLength, Math.min((schema.maxLength as number | undefined) ?? 24, 24)) });
    }
    case 'array':
      return fc.array(arbitraryOf(schema.items as Json, root), { minLength: (schema.minItems as number | undefined) ?? 0, maxLength: Math.min((schema.maxItems as number | undefined) ?? 3, 3) });
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      const required = new Set((schema.required ?? []) as string[]);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, prop] of Object.entries(props)) record[key] = arbitraryOf(prop, root);
      const requiredKeys = Object.keys(props).filter((k) => required.has(k));
      return fc.record(record, { requiredKeys });
    }
    default:
      throw new Error(`no example generator for schema ${JSON.stringify(schema)}`);
  }
}

/** Envelopes a version's document accepts, each with a payload sampled from its `$defs`. */
export function envelopeArbitrary(doc: Json): fc.Arbitrary<unknown> {
  return arbitraryOf(doc);
}
