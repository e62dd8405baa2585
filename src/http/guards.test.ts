import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import { checkContentType, checkGetAccept, checkHostAndOrigin, checkPostAccept, compileOriginPolicy, isLoopbackHost, readBody, type OriginPolicy } from './guards.ts';

function request(headers: Record<string, string | undefined>, rawHeaders?: string[]): IncomingMessage {
  const raw = rawHeaders ?? Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [name, value]));
  return { headers, rawHeaders: raw } as unknown as IncomingMessage;
}

function refusedWith(code: ErrorCode, fn: () => void, label?: string): void {
  assert.throws(fn, (error: unknown) => error instanceof GatehouseError && error.code === code, label);
}

function allowed(policy: OriginPolicy, host: string | undefined, origin?: string): boolean {
  try {
    checkHostAndOrigin(request({ host, origin }), policy);
    return true;
  } catch (error) {
    assert.ok(error instanceof GatehouseError && (error.code === 'GH_FORBIDDEN_HOST' || error.code === 'GH_FORBIDDEN_ORIGIN'), String(error));
    assert.equal(error.status, 403);
    return false;
  }
}

test('loopback host names', () => {
  for (const host of ['localhost', '127.0.0.1', '127.0.0.53', '::1', '[::1]']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', 'example.com', '10.0.0.1', 'localhost.example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(host), host);
});

test('regression: a DNS name that starts with "127." is not loopback (DNS-rebinding bypass)', () => {
  for (const host of ['127.attacker.example', '127.0.0.1.attacker.example', '127.', '127.0.0', '127.0.0.256', '127.1']) {
    assert.ok(!isLoopbackHost(host), host);
  }
  const policy = compileOriginPolicy('127.0.0.1', {});
  assert.ok(!allowed(policy, '127.attacker.example:8080'));
  assert.ok(!allowed(policy, 'localhost:8080', 'http://127.attacker.example:8080'));
  assert.ok(allowed(policy, '127.0.0.2:8080', 'http://127.10.20.30:3000'));
  assert.equal(compileOriginPolicy('127.attacker.example', {}).enabled, false);
});

test('protection is on by default for loopback listeners, off for others unless asked for', () => {
  for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
    assert.deepEqual(compileOriginPolicy(host, {}), { enabled: true, hosts: undefined, origins: undefined }, host);
  }
  for (const host of ['0.0.0.0', '::', '192.0.2.10']) assert.equal(compileOriginPolicy(host, {}).enabled, false, host);
  assert.equal(compileOriginPolicy('0.0.0.0', { allowedHosts: ['mcp.example.com'] }).enabled, true);
  assert.equal(compileOriginPolicy('0.0.0.0', { allowedOrigins: ['https://app.example.com'] }).enabled, true);
  assert.equal(compileOriginPolicy('0.0.0.0', {}, ['https://app.example.com']).enabled, true);
  assert.equal(compileOriginPolicy('127.0.0.1', { dnsRebindingProtection: false }).enabled, false);
  assert.equal(compileOriginPolicy('0.0.0.0', { dnsRebindingProtection: true }).enabled, true);
  assert.equal(compileOriginPolicy('0.0.0.0', { dnsRebindingProtection: false, allowedHosts: ['x'] }).enabled, false);
});

test('a disabled policy lets anything through', () => {
  const policy = compileOriginPolicy('0.0.0.0', {});
  assert.ok(allowed(policy, 'evil.example', 'https://evil.example'));
  assert.ok(allowed(policy, undefined));
});

test('loopback defaults: loopback Host on any port, loopback Origin on any port, no Origin', () => {
  const policy = compileOriginPolicy('127.0.0.1', {});
  for (const host of ['localhost', 'localhost:8080', '127.0.0.1:8080', '127.0.0.1', '[::1]:8080', '[::1]', 'LOCALHOST:1']) {
    assert.ok(allowed(policy, host), host);
  }
  for (const host of ['evil.example', 'evil.example:8080', '0.0.0.0:8080', '192.168.1.10:8080', '', undefined]) {
    assert.ok(!allowed(policy, host), String(host));
  }
  refusedWith('GH_FORBIDDEN_HOST', () => checkHostAndOrigin(request({ host: 'attacker.example:8080' }), policy));
  for (const origin of ['http://localhost:3000', 'https://localhost', 'http://127.0.0.1:6274', 'http://[::1]:5173', 'HTTP://LOCALHOST']) {
    assert.ok(allowed(policy, 'localhost:8080', origin), origin);
  }
  for (const origin of ['http://evil.example', 'https://localhost.evil.example', 'null', 'file://', 'chrome-extension://abc', 'ws://localhost:1', 'not a url']) {
    assert.ok(!allowed(policy, 'localhost:8080', origin), origin);
  }
  refusedWith('GH_FORBIDDEN_ORIGIN', () => checkHostAndOrigin(request({ host: 'localhost', origin: 'https://evil.example' }), policy));
});

test('allowedHosts replaces the loopback names; a name without a port matches any port', () => {
  const policy = compileOriginPolicy('0.0.0.0', { allowedHosts: ['mcp.example.com', 'Internal.Example:8443'] });
  for (const host of ['mcp.example.com', 'mcp.example.com:443', 'MCP.example.com', 'internal.example:8443']) assert.ok(allowed(policy, host), host);
  for (const host of ['localhost:8080', '127.0.0.1', 'internal.example', 'internal.example:9000', 'evil.example', 'mcp.example.com.evil.example']) {
    assert.ok(!allowed(policy, host), host);
  }
});

test('allowedOrigins replaces the loopback origins; case and a trailing slash do not matter; the API list wins', () => {
  const policy = compileOriginPolicy('127.0.0.1', { allowedOrigins: ['https://app.example.com/', 'http://localhost:3000'] });
  for (const origin of ['https://app.example.com', 'https://APP.example.com', 'http://localhost:3000']) assert.ok(allowed(policy, 'localhost', origin), origin);
  for (const origin of ['http://app.example.com', 'https://app.example.com:8443', 'http://localhost:3001', 'https://evil.example']) {
    assert.ok(!allowed(policy, 'localhost', origin), origin);
  }
  // The Host check keeps its loopback default when only origins are listed.
  assert.ok(!allowed(policy, 'evil.example', 'https://app.example.com'));

  const perApi = compileOriginPolicy('127.0.0.1', { allowedOrigins: ['https://app.example.com'] }, ['https://other.example']);
  assert.ok(allowed(perApi, 'localhost', 'https://other.example'));
  assert.ok(!allowed(perApi, 'localhost', 'https://app.example.com'));
});

test('a public URL\'s host joins the loopback names, and its origin is always accepted', () => {
  const policy = compileOriginPolicy('127.0.0.1', {}, undefined, { publicUrl: 'https://MCP.example.com/base' });
  assert.ok(allowed(policy, 'mcp.example.com'));
  assert.ok(allowed(policy, 'localhost:8080'));
  assert.ok(!allowed(policy, 'mcp.example.com:8443'), 'another port is another host');
  assert.ok(!allowed(policy, 'evil.example'));
  assert.ok(allowed(policy, 'localhost:8080', 'https://mcp.example.com'));
  const listed = compileOriginPolicy('0.0.0.0', { allowedOrigins: ['https://app.example.com'] }, undefined, { publicUrl: 'https://mcp.example.com' });
  assert.ok(allowed(listed, 'mcp.example.com', 'https://mcp.example.com'), 'the public origin, though not listed');
  assert.ok(!allowed(listed, 'mcp.example.com', 'http://localhost:3000'));
});

test('same origin is always accepted: a page the gateway served posting back to it', () => {
  const listed = compileOriginPolicy('0.0.0.0', { allowedHosts: ['mcp.example.com'], allowedOrigins: ['https://app.example.com'] });
  assert.ok(allowed(listed, 'mcp.example.com', 'https://mcp.example.com'));
  assert.ok(!allowed(listed, 'mcp.example.com', 'https://mcp.example.com.evil.example'));
  assert.ok(!allowed(listed, 'mcp.example.com', 'ws://mcp.example.com'));
});

test('behind a trusted proxy the forwarded host is the one checked (it is the one URLs are built from)', () => {
  const policy = compileOriginPolicy('127.0.0.1', { allowedHosts: ['mcp.example.com'] }, undefined, { trustProxy: true });
  assert.ok(allowed({ ...policy }, 'mcp.example.com'));
  const forwarded = (host: string, xfh: string) => {
    try {
      checkHostAndOrigin(request({ host, 'x-forwarded-host': xfh }), policy);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(forwarded('127.0.0.1:8080', 'mcp.example.com'));
  assert.ok(!forwarded('mcp.example.com', 'evil.example'), 'a listed Host does not vouch for the forwarded one');
  assert.ok(!forwarded('127.0.0.1:8080', 'evil.example, mcp.example.com'), 'the first forwarded value counts, as for URLs');
  // Without trustProxy the forwarded header is ignored, for the check as for URLs.
  const direct = compileOriginPolicy('127.0.0.1', { allowedHosts: ['mcp.example.com'] });
  assert.doesNotThrow(() => checkHostAndOrigin(request({ host: 'mcp.example.com', 'x-forwarded-host': 'evil.example' }), direct));
});

test('two Host headers are refused with 400, even where Host is not checked (Node keeps the first)', () => {
  for (const policy of [compileOriginPolicy('127.0.0.1', {}), compileOriginPolicy('0.0.0.0', {})]) {
    refusedWith('GH_BAD_HEADER', () => checkHostAndOrigin(request({ host: 'localhost' }, ['Host', 'localhost', 'host', 'evil.example']), policy));
  }
});

test('POST Accept must allow both application/json and text/event-stream', () => {
  for (const accept of [
    'application/json, text/event-stream',
    'text/event-stream, application/json',
    'application/json;q=0.9, text/event-stream;q=1',
    'Application/JSON ,  Text/Event-Stream',
    '*/*',
    'application/*, text/*',
    'application/json, text/*',
  ]) {
    assert.doesNotThrow(() => checkPostAccept(request({ accept })), accept);
  }
  for (const accept of [undefined, '', 'application/json', 'text/event-stream', 'text/html, application/xml', 'application/jsonx, text/event-stream', 'json, event-stream']) {
    refusedWith('GH_NOT_ACCEPTABLE', () => checkPostAccept(request({ accept })), String(accept));
  }
  assert.equal(new GatehouseError('GH_NOT_ACCEPTABLE').status, 406);
});

test('GET Accept must allow text/event-stream', () => {
  for (const accept of ['text/event-stream', 'text/*', '*/*', 'application/json, text/event-stream; charset=utf-8']) {
    assert.doesNotThrow(() => checkGetAccept(request({ accept })), accept);
  }
  for (const accept of [undefined, 'application/json', 'text/html']) refusedWith('GH_NOT_ACCEPTABLE', () => checkGetAccept(request({ accept })), String(accept));
});

test('Content-Type must be application/json (parameters allowed)', () => {
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
    assert.doesNotThrow(() => checkContentType(request({ 'content-type': type })), type);
  }
  for (const type of [undefined, '', 'text/plain', 'application/json-seq', 'application/x-www-form-urlencoded']) {
    refusedWith('GH_UNSUPPORTED_MEDIA_TYPE', () => checkContentType(request({ 'content-type': type })), String(type));
  }
});

function body(chunks: string[], headers: Record<string, string> = {}): IncomingMessage {
  const stream = new PassThrough();
  Object.assign(stream, { headers });
  queueMicrotask(() => {
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
  });
  return stream as unknown as IncomingMessage;
}

test('readBody returns the body and refuses one past the limit (declared or as read) with 413', async () => {
  assert.equal((await readBody(body(['{"a":', '1}']), 100)).toString(), '{"a":1}');
  assert.equal((await readBody(body([]), 100)).length, 0);
  assert.equal((await readBody(body(['x'.repeat(100)]), 100)).length, 100);
  const tooLarge = (error: unknown) => error instanceof GatehouseError && error.code === 'GH_PAYLOAD_TOO_LARGE' && error.status === 413;
  await assert.rejects(readBody(body(['x'], { 'content-length': '101' }), 100), tooLarge);
  await assert.rejects(readBody(body(['x'.repeat(60), 'x'.repeat(60)]), 100), tooLarge);
});
