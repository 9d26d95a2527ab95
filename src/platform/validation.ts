import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';

// ajv-formats ships CommonJS; its default export arrives wrapped under ESM.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

// verbose: errors carry their schema, so a schema's own `errorMessage` can replace ajv's wording.
const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, verbose: true });
addFormats(ajv);

const cache = new WeakMap<object, ValidateFunction>();

export type Check<T> = ((value: unknown) => value is T) & { errors: () => string[] };

/** A compiled validator for a TypeBox schema (compiled once per schema object). */
export function compileSchema<S extends TSchema>(schema: S): Check<Static<S>> {
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    cache.set(schema, validate);
  }
  const fn = validate;
  const check = ((value: unknown) => fn(value)) as Check<Static<S>>;
  check.errors = () => describeErrors(fn.errors);
  return check;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  const lines = (errors ?? []).map((e) => {
    const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(body)';
    if (e.keyword === 'additionalProperties') return `${where}: unknown field "${String(e.params.additionalProperty)}"`;
    if (e.keyword === 'required') return `${where}: missing field "${String(e.params.missingProperty)}"`;
    const own = (e.parentSchema as { errorMessage?: unknown } | undefined)?.errorMessage;
    return `${where}: ${typeof own === 'string' ? own : (e.message ?? 'is invalid')}`;
  });
  return [...new Set(lines)];
}

export type JsonCheck = ((value: unknown) => boolean) & { errors: () => { path: string; message: string }[] };

/**
 * A compiled validator for a plain JSON Schema document (the event registry's), whose errors name
 * the failing field: `path` is dotted from the root (`payload.title`), a missing field included.
 */
export function compileJsonSchema(doc: Record<string, unknown>): JsonCheck {
  const fn = ajv.compile(doc);
  const check = ((value: unknown) => fn(value)) as JsonCheck;
  check.errors = () => {
    const seen = new Set<string>();
    return (fn.errors ?? [])
      .map((e) => {
        const parts = e.instancePath ? e.instancePath.slice(1).split('/') : [];
        if (e.keyword === 'required') parts.push(String(e.params.missingProperty));
        if (e.keyword === 'additionalProperties') parts.push(String(e.params.additionalProperty));
        const path = parts.join('.') || '(envelope)';
        const own = (e.parentSchema as { errorMessage?: unknown } | undefined)?.errorMessage;
        const message =
          e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not a known field' : typeof own === 'string' ? own : (e.message ?? 'is invalid');
        return { path, message };
      })
      // A schema's own message stands for all of its failed keywords: one line per field.
      .filter((e) => !seen.has(`${e.path}\0${e.message}`) && seen.add(`${e.path}\0${e.message}`));
  };
  return check;
}
