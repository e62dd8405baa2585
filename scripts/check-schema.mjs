// Run by `npm test` after the build: fails when schema/gatehouse.schema.json or
// docs/configuration.md differ from what the compiled config schema produces.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from './config-reference.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let configJsonSchema;
try {
  ({ configJsonSchema } = await import('../dist/config/json-schema.js'));
} catch (error) {
  process.stderr.write(`check-schema: cannot load dist/config/json-schema.js (${error.message}); run \`npm run build\` first\n`);
  process.exit(1);
}
let openApiDocument;
try {
  ({ openApiDocument } = await import('../dist/control/openapi.js'));
} catch (error) {
  process.stderr.write(`check-schema: cannot load dist/control/openapi.js (${error.message}); run \`npm run build\` first\n`);
  process.exit(1);
}
const schema = configJsonSchema();
const expected = [
  ['schema/gatehouse.schema.json', JSON.stringify(schema, null, 2) + '\n'],
  ['docs/configuration.md', renderConfigReference(schema)],
  ['schema/openapi.json', JSON.stringify(openApiDocument('v1'), null, 2) + '\n'],
];

let stale = 0;
for (const [relative, text] of expected) {
  let committed;
  try {
    committed = await readFile(path.join(root, relative), 'utf8');
  } catch {
    committed = undefined;
  }
  if (committed === text) continue;
  stale++;
  if (committed === undefined) {
    process.stderr.write(`check-schema: ${relative} is missing.\n`);
    continue;
  }
  const a = committed.split('\n');
  const b = text.split('\n');
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line++;
  process.stderr.write(
    `check-schema: ${relative} is out of date with the zod schemas (src/config/schema.ts, src/control/openapi.ts) (first difference at line ${line + 1}):\n` +
      `  file:      ${a[line] ?? '(end of file)'}\n` +
      `  generated: ${b[line] ?? '(end of file)'}\n`,
  );
}
if (stale > 0) {
  process.stderr.write('check-schema: run `npm run schema` and commit the result.\n');
  process.exit(1);
}
process.stdout.write('check-schema: schema/gatehouse.schema.json, docs/configuration.md and schema/openapi.json are up to date\n');
