import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { eventRegistry } from '../src/domain/events/catalog.ts';
import { SCHEMAS_DIR, schemaFiles } from '../src/domain/events/schemaFiles.ts';

/**
 * Writes every event version's JSON Schema document under schemas/ for review and commit. A
 * published version's document must never change (npm test checks the committed files); a new
 * version gets a new file. Prints what it wrote or changed.
 */
const files = schemaFiles(eventRegistry);
const known = new Set<string>();
for (const [path, text] of files) {
  known.add(path);
  const full = join(SCHEMAS_DIR, path);
  let before: string | null = null;
  try {
    before = readFileSync(full, 'utf8');
  } catch {
    /* a new version */
  }
  if (before === text) continue;
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
  process.stdout.write(`${before === null ? 'new     ' : 'CHANGED '} ${full}\n`);
}
for (const name of readdirSync(SCHEMAS_DIR)) {
  for (const file of readdirSync(join(SCHEMAS_DIR, name))) {
    if (!known.has(`${name}/${file}`)) process.stdout.write(`not in the registry: ${join(SCHEMAS_DIR, name, file)} (a published version may not be removed)\n`);
  }
}
process.stdout.write(`${files.size} documents in ${SCHEMAS_DIR}/\n`);
