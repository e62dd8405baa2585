// docs/configuration.md is generated from the schema (scripts/config-reference.mjs); these checks
// keep the generator honest as the schema grows: every field is documented, every link lands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { renderConfigReference } from '../scripts/config-reference.mjs';

const schema = configJsonSchema();
const doc = renderConfigReference(schema);

/** Every property name anywhere in the schema. */
function fieldNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) fieldNames(item, out);
  } else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.properties && typeof record.properties === 'object') {
      for (const name of Object.keys(record.properties)) out.add(name);
    }
    for (const value of Object.values(record)) fieldNames(value, out);
  }
  return out;
}

test('every field of the schema appears in the reference', () => {
  const missing = [...fieldNames(schema)].filter((name) => !new RegExp(`\`([^\`|]*\\.)?${name.replace(/[$]/g, '\\$&')}\``).test(doc));
  assert.deepEqual(missing, []);
});

test('every link inside the reference points at a heading', () => {
  const counts = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of doc.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  assert.ok(links.length > 0);
  assert.deepEqual(links.filter((link) => !anchors.has(link)), []);
});

test('table cells keep their columns: pipes are escaped, code spans survive backticks', () => {
  for (const line of doc.split('\n').filter((l) => l.startsWith('| `') || l.startsWith('| ``'))) {
    const cells = line.slice(1, -1).split(/(?<!\\)\|/);
    assert.equal(cells.length, 4, line);
  }
  const rendered = renderConfigReference({
    type: 'object',
    properties: { odd: { type: 'string', pattern: '^[a`|]+$', description: 'a | b' } },
  });
  assert.match(rendered, /\| `odd` \| string \| — \| a \\\| b\. Pattern: `` \^\[a`\\\|\]\+\$ ``\. \|/);
});
