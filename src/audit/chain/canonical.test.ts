// The canonical form a record's hash covers: RFC 8785 text, the same from a record as from the
// row either database gives back, and every field (and the link) inside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { AuditEvent } from '../event.ts';
import { COLUMNS, rowValues } from '../rows.ts';
import canonicalize from 'canonicalize';
import { canonicalForm, canonicalObject, eventHash, HASHED, rowHash } from './canonical.ts';
import { signCheckpoint, signatureValid } from './checkpoint.ts';
import { parsePublicKey } from './signing-key.ts';

const EVENT: AuditEvent = {
  id: '0mabcdefg0001xyz12', time: 1_780_000_000_123, api: 'tools', tenant: undefined, agent: 'alice', user: 'ana@example.com',
  clientAddress: '127.0.0.1', session: 'AbCdEfGhIjKl', rpcId: '7', method: 'tools/call', feature: 'tools', target: 'echo',
  server: 'everything', originalTarget: 'echo', decision: 'allowed', rule: 'acl:all', reason: undefined, status: 200,
  upstreamStatus: 200, errorCode: undefined, toolError: false, durationMs: 1.2345678901234567, upstreamMs: 0.5, bytesIn: 120,
  bytesOut: 340, request: '{"message":"héllo ☃"}', response: undefined, trace: '[]',
};
const LINK = { node: 'n1', seq: 5, prevHash: 'a'.repeat(64) };

/** The row as Postgres returns it: bigint columns as text. */
function postgresRow(e: AuditEvent): Record<string, unknown> {
  const values = rowValues(e);
  const row: Record<string, unknown> = {};
  COLUMNS.forEach((c, i) => (row[c] = ['time', 'bytes_in', 'bytes_out'].includes(c) && values[i] !== null ? String(values[i]) : values[i]));
  return row;
}

test('canonical form: RFC 8785 (sorted keys, no spaces), every hashed column plus the link', () => {
  const text = canonicalForm(
    HASHED.map((c) => rowValues(EVENT)[(COLUMNS as readonly string[]).indexOf(c)]),
    LINK,
  );
  const parsed = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), [...Object.keys(parsed)].sort(), 'keys sorted');
  assert.ok(!/[\n ]":/.test(text) && !text.includes(', '), 'no white space between tokens');
  assert.deepEqual(Object.keys(parsed).sort(), [...HASHED, 'node', 'chain_seq', 'prev_hash'].sort());
  assert.equal(parsed.duration_ms, 1.2345678901234567);
  assert.equal(parsed.tenant, null, 'absent is null, not left out');
  assert.equal(parsed.tool_error, 0);
  assert.equal(parsed.chain_seq, 5);
  assert.match(text, /"request":"\{\\"message\\":\\"héllo ☃\\"\}"/, 'non-ASCII kept as UTF-8, quotes escaped');
  assert.equal(eventHash(EVENT, LINK), createHash('sha256').update(text, 'utf8').digest('hex'));
});

test('canonical hash: the same from the record and from rows as SQLite and Postgres return them', () => {
  const expected = eventHash(EVENT, LINK);
  const values = rowValues(EVENT);
  const sqliteRow = Object.fromEntries(COLUMNS.map((c, i) => [c, values[i]]));
  assert.equal(rowHash(sqliteRow, LINK), expected);
  assert.equal(rowHash(postgresRow(EVENT), LINK), expected);
});

test('canonical hash: NUL and lone surrogates hash as the stores keep them', () => {
  const withNul = { ...EVENT, reason: 'a\u0000b' };
  const stored = { ...EVENT, reason: 'a\\u0000b' }; // what the Postgres sink writes
  assert.equal(eventHash(withNul, LINK), eventHash(stored, LINK));
  const lone = { ...EVENT, target: 'x\uD800y' };
  assert.equal(eventHash(lone, LINK), eventHash({ ...EVENT, target: 'x\uFFFDy' }, LINK), 'SQLite stores a lone surrogate as U+FFFD');
});

test('canonical hash: any field, the seq, the node and the previous hash change it', () => {
  const base = eventHash(EVENT, LINK);
  for (const change of [{ agent: 'mallory' }, { decision: 'denied' as const }, { time: EVENT.time + 1 }, { durationMs: 1.23 }, { tenant: 't' }, { toolError: true }]) {
    assert.notEqual(eventHash({ ...EVENT, ...change }, LINK), base, JSON.stringify(change));
  }
  assert.notEqual(eventHash(EVENT, { ...LINK, seq: 6 }), base);
  assert.notEqual(eventHash(EVENT, { ...LINK, node: 'n2' }), base);
  assert.notEqual(eventHash(EVENT, { ...LINK, prevHash: null }), base);
  assert.equal(eventHash({ ...EVENT }, { ...LINK }), base, 'deterministic');
});

test('checkpoint: an Ed25519 signature over the statement; any change breaks it', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }) as string, 'test');
  const c = signCheckpoint({ node: 'n1', fromSeq: 1, toSeq: 1000, lastHash: 'b'.repeat(64), time: 1_780_000_000_000 }, { privateKey, publicKey: spki });
  assert.equal(signatureValid(c), true);
  for (const change of [{ toSeq: 999 }, { fromSeq: 2 }, { lastHash: 'c'.repeat(64) }, { node: 'n2' }, { time: c.time + 1 }]) assert.equal(signatureValid({ ...c, ...change }), false, JSON.stringify(change));
  const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  assert.equal(signatureValid({ ...c, publicKey: other }), false, 'another key');
  assert.equal(signatureValid({ ...c, signature: 'AAAA' }), false, 'garbage signature');
  assert.equal(parsePublicKey(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 'test'), spki, 'a private key gives its public half');
  assert.throws(() => parsePublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }) as string, 'keys/p256.pem'), /keys\/p256\.pem: expected an Ed25519 key/);
});

test('canonical form: the same bytes as the reference RFC 8785 library, for awkward values too', () => {
  const awkward: Array<Partial<AuditEvent>> = [
    {},
    { durationMs: 1e21, upstreamMs: 1e-7, bytesIn: 0, bytesOut: 2 ** 53 - 1 },
    { durationMs: -0, upstreamMs: 0.1 + 0.2, time: 1 },
    { reason: 'line\nbreak\ttab "quoted" back\\slash \u0001\u001f\u007f', target: '€ 𝄞 ☃ é' },
    { request: '</script><!-- \u2028\u2029', response: '{"a":[1,2,{"b":null}]}' },
    { target: 'lone \uD800 surrogate', trace: '' },
    { tenant: 't', user: 'u', errorCode: -32602, toolError: true, decision: 'denied' },
  ];
  for (const change of awkward) {
    const values = rowValues({ ...EVENT, ...change });
    const ordered = HASHED.map((c) => values[(COLUMNS as readonly string[]).indexOf(c)]);
    for (const link of [LINK, { node: 'ñode', seq: 1, prevHash: null }]) {
      assert.equal(canonicalForm(ordered, link), canonicalize(canonicalObject(ordered, link)), JSON.stringify(change));
    }
  }
});
