// The forwarding header: what it binds (method, path, session id, nodes, time, nonce, the
// client's address and scheme), the 30 s window, and that a header is accepted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FORWARD_WINDOW_MS, FORWARDED_HEADER, ForwardSigner } from './signature.ts';

function request(method: string, url: string, session: string | undefined, header: string): IncomingMessage {
  const headers: Record<string, string> = { [FORWARDED_HEADER]: header };
  if (session !== undefined) headers['mcp-session-id'] = session;
  return { method, url, headers } as unknown as IncomingMessage;
}

const claims = { from: 'node-b', to: 'node-a', address: '2001:db8::7', scheme: 'https' as const };

test('a signed header verifies once, with what the forwarding node said', () => {
  const signer = new ForwardSigner(randomBytes(32));
  const header = signer.sign('POST', '/mcp?x=1', 'gh1.session', claims);
  const verdict = signer.verify(request('POST', '/mcp?x=1', 'gh1.session', header));
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.deepEqual({ ...verdict.claims, ts: 0, nonce: '' }, { ...claims, ts: 0, nonce: '' });
  const again = signer.verify(request('POST', '/mcp?x=1', 'gh1.session', header));
  assert.deepEqual(again, { ok: false, reason: 'a replay (the nonce was seen before)' });
});

test('the signature binds method, path, session and every field; another key does not verify', () => {
  const key = randomBytes(32);
  const signer = new ForwardSigner(key);
  const header = signer.sign('POST', '/mcp', 'gh1.session', claims);
  const refused = (req: IncomingMessage) => {
    const verdict = new ForwardSigner(key).verify(req);
    assert.equal(verdict.ok, false);
    return verdict.ok ? '' : verdict.reason;
  };
  assert.equal(refused(request('GET', '/mcp', 'gh1.session', header)), 'the signature does not verify');
  assert.equal(refused(request('POST', '/other', 'gh1.session', header)), 'the signature does not verify');
  assert.equal(refused(request('POST', '/mcp', 'gh1.another', header)), 'the signature does not verify');
  assert.equal(refused(request('POST', '/mcp', undefined, header)), 'the signature does not verify');
  assert.equal(refused(request('POST', '/mcp', 'gh1.session', header.replace('a=2001', 'a=10.0'))), 'the signature does not verify');
  assert.equal(refused(request('POST', '/mcp', 'gh1.session', header.replace('p=https', 'p=http'))), 'the signature does not verify');
  assert.equal(refused(request('POST', '/mcp', 'gh1.session', header.replace(/;sig=.*$/, ''))), 'the header is not signed');
  assert.equal(new ForwardSigner(randomBytes(32)).verify(request('POST', '/mcp', 'gh1.session', header)).ok, false);
});

test('a header older or newer than the window is refused', () => {
  const signer = new ForwardSigner(randomBytes(32));
  const now = Date.now();
  const old = signer.sign('POST', '/mcp', 's', claims, now - FORWARD_WINDOW_MS - 1);
  const future = signer.sign('POST', '/mcp', 's', claims, now + FORWARD_WINDOW_MS + 1);
  const within = signer.sign('POST', '/mcp', 's', claims, now - FORWARD_WINDOW_MS + 1000);
  assert.deepEqual(signer.verify(request('POST', '/mcp', 's', old), now), { ok: false, reason: 'the timestamp is outside the 30 s window' });
  assert.deepEqual(signer.verify(request('POST', '/mcp', 's', future), now), { ok: false, reason: 'the timestamp is outside the 30 s window' });
  assert.equal(signer.verify(request('POST', '/mcp', 's', within), now).ok, true);
});
