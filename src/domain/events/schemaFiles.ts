import type { EventRegistry } from './registry.ts';

/** Where the registry's reviewed documents are committed, relative to the repository root. */
export const SCHEMAS_DIR = 'schemas';

/** Every published document as the file `npm run schemas` writes: `<Name>/v<version>.json` → text. */
export function schemaFiles(registry: EventRegistry): Map<string, string> {
  const files = new Map<string, string>();
  for (const event of registry.list()) {
    for (const def of event.versions) {
      files.set(`${event.name}/v${def.version}.json`, `${JSON.stringify(registry.document(event.name, def.version), null, 2)}\n`);
    }
  }
  return files;
}
