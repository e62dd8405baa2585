// npm run schema: writes schema/gatehouse.schema.json, docs/configuration.md and the management
// API's schema/openapi.json from the zod schemas. `npm test` (scripts/check-schema.mjs) fails when either file
// is out of date.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { renderConfigReference } from './config-reference.mjs';
import { openApiDocument } from '../src/control/openapi.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schema = configJsonSchema();
// The published document names no release: it changes with the API, not with every version bump.
const PUBLISHED_VERSION = 'v1';
const outputs: Array<[string, string]> = [
  ['schema/gatehouse.schema.json', JSON.stringify(schema, null, 2) + '\n'],
  ['docs/configuration.md', renderConfigReference(schema)],
  ['schema/openapi.json', JSON.stringify(openApiDocument(PUBLISHED_VERSION), null, 2) + '\n'],
];
for (const [relative, text] of outputs) {
  const file = path.join(root, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  process.stdout.write(`wrote ${relative}\n`);
}
