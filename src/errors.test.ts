// The error catalogue and docs/errors.md must agree: every code in both, with the same HTTP
// status, JSON-RPC code and meaning. Codes are stable strings, never reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS, GatehouseError, type ErrorCode } from './errors.ts';

interface DocRow {
  code: string;
  status: number;
  rpc: number;
  meaning: string;
  when: string;
}

const DOC = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

function docRows(): DocRow[] {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('## Codes'), text.indexOf('\n## ', text.indexOf('## Codes') + 1));
  const rows: DocRow[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    // Cells are split on pipes that are not escaped as \|.
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    assert.equal(cells.length, 5, `docs/errors.md: expected 5 cells in: ${line}`);
    const [code, status, rpc, meaning, when] = cells as [string, string, string, string, string];
    const name = /^`([A-Z0-9_]+)`$/.exec(code);
    assert.ok(name, `docs/errors.md: code cell should be \`GH_…\`: ${code}`);
    assert.match(status, /^\d{3}$/, `docs/errors.md: ${code}: HTTP status should be a number`);
    assert.match(rpc, /^-?\d+$/, `docs/errors.md: ${code}: JSON-RPC code should be a number`);
    rows.push({ code: name[1]!, status: Number(status), rpc: Number(rpc), meaning, when });
  }
  return rows;
}

test('codes are unique GH_ strings with a title, an HTTP error status and a JSON-RPC error code', () => {
  const codes = Object.keys(ERRORS);
  assert.ok(codes.length > 0);
  assert.equal(new Set(codes).size, codes.length);
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.equal(typeof code, 'string');
    assert.match(code, /^GH_[A-Z0-9]+(_[A-Z0-9]+)*$/, code);
    assert.ok(spec.title.length > 0, `${code} has a title`);
    assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599, `${code}: status ${spec.status} is an HTTP error status`);
    // JSON-RPC reserves -32768..-32000 for protocol-level errors; Gatehouse's codes stay inside.
    assert.ok(Number.isInteger(spec.rpc) && spec.rpc >= -32768 && spec.rpc <= -32000, `${code}: rpc ${spec.rpc} is a JSON-RPC error code`);
  }
});

test('Gatehouse-specific JSON-RPC codes (other than the standard ones and -32000) each belong to one error', () => {
  const shared = new Set([-32700, -32600, -32601, -32602, -32603, -32000]);
  const owners = new Map<number, string>();
  for (const [code, spec] of Object.entries(ERRORS)) {
    if (shared.has(spec.rpc)) continue;
    assert.equal(owners.get(spec.rpc), undefined, `${code} and ${owners.get(spec.rpc)} share JSON-RPC code ${spec.rpc}`);
    owners.set(spec.rpc, code);
  }
});

test('docs/errors.md lists every code of src/errors.ts, and no other', () => {
  const rows = docRows();
  const documented = rows.map((r) => r.code);
  assert.equal(new Set(documented).size, documented.length, `docs/errors.md lists a code twice: ${documented.filter((c, i) => documented.indexOf(c) !== i).join(', ')}`);
  const catalogue = Object.keys(ERRORS);
  const missing = catalogue.filter((c) => !documented.includes(c));
  const unknown = documented.filter((c) => !catalogue.includes(c));
  assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
  assert.deepEqual(unknown, [], `docs/errors.md lists codes that src/errors.ts does not have: ${unknown.join(', ')}`);
});

test('docs/errors.md gives each code the HTTP status, JSON-RPC code and meaning of the catalogue', () => {
  for (const row of docRows()) {
    const spec = ERRORS[row.code as ErrorCode];
    if (!spec) continue; // reported by the test above
    assert.equal(row.status, spec.status, `${row.code}: HTTP status in docs/errors.md`);
    assert.equal(row.rpc, spec.rpc, `${row.code}: JSON-RPC code in docs/errors.md`);
    assert.equal(row.meaning, spec.title, `${row.code}: meaning in docs/errors.md should be the catalogue title`);
    assert.ok(row.when.length > 0, `${row.code}: docs/errors.md says when it happens`);
  }
});

test('GatehouseError carries the catalogue entry of its code', () => {
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    const error = new GatehouseError(code);
    assert.equal(error.code, code);
    assert.equal(error.status, ERRORS[code].status);
    assert.equal(error.rpc, ERRORS[code].rpc);
    assert.equal(error.message, ERRORS[code].title);
  }
  const custom = new GatehouseError('GH_METHOD_NOT_ALLOWED', 'Method Not Allowed: PUT', { allow: 'GET, POST, DELETE' });
  assert.equal(custom.message, 'Method Not Allowed: PUT');
  assert.deepEqual(custom.headers, { allow: 'GET, POST, DELETE' });
});
