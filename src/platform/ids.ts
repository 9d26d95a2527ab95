import { Type } from '@sinclair/typebox';
import { compileSchema } from './validation.ts';

/**
 * A user or room id: a canonical (lowercase) uuid. Ids are compared byte for byte everywhere —
 * MySQL columns are binary (migration 0010), Redis keys are built from them — so another
 * spelling of the same uuid would be another user or a second copy of a room's history.
 */
export const LowercaseUuid = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  minLength: 36,
  maxLength: 36,
  description: 'a lowercase uuid',
});

const check = compileSchema(LowercaseUuid);

export function isLowercaseUuid(value: unknown): value is string {
  return check(value);
}
