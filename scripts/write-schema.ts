// npm run schema: writes schema/gatehouse.schema.json and docs/configuration.md from the zod
// schema in src/config/schema.ts. `npm test` (scripts/check-schema.mjs) fails when either file
// is out of date.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { renderConfigReference } from './config-reference.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schema = configJsonSchema();
const outputs: Array<[string, string]> = [
  ['schema/gatehouse.schema.json', JSON.stringify(schema, null, 2) + '\n'],
  ['docs/configuration.md', renderConfigReference(schema)],
];
for (const [relative, text] of outputs) {
  const file = path.join(root, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  process.stdout.write(`wrote ${relative}\n`);
}
