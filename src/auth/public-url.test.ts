// The public base URL: publicUrl first, forwarded headers only behind a trusted proxy, else Host;
// resource and metadata URLs keep the API path exactly as configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { authContextFor, compilePublicBase, metadataUrl, resourceUrl } from './public-url.ts';
import { GatehouseError } from '../errors.ts';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const forwarded = { host: '127.0.0.1:8080', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'mcp.example.com, proxy.internal' };

test('publicUrl wins, without its trailing slash', () => {
  const base = compilePublicBase({ publicUrl: 'https://gw.example.com/', trustProxy: true });
  assert.equal(base(request(forwarded)), 'https://gw.example.com');
  const prefixed = compilePublicBase({ publicUrl: 'https://example.com/gatehouse', trustProxy: false });
  assert.equal(resourceUrl(prefixed(request({})), '/mcp'), 'https://example.com/gatehouse/mcp');
});

test('X-Forwarded-Proto/Host are honoured only with trustProxy, first value of each', () => {
  assert.equal(compilePublicBase({ trustProxy: true })(request(forwarded)), 'https://mcp.example.com');
  assert.equal(compilePublicBase({ trustProxy: false })(request(forwarded)), 'http://127.0.0.1:8080');
  // A proxy that sets only the protocol: the Host header names the host.
  assert.equal(compilePublicBase({ trustProxy: true })(request({ host: 'gw.local:9000', 'x-forwarded-proto': 'https' })), 'https://gw.local:9000');
  // An odd protocol is not taken.
  assert.equal(compilePublicBase({ trustProxy: true })(request({ host: 'gw.local', 'x-forwarded-proto': 'javascript' })), 'http://gw.local');
});

test('a Host that is not host[:port] is refused (it would end up in URLs and challenges)', () => {
  const base = compilePublicBase({ trustProxy: true });
  for (const host of ['evil.com" , x="', 'a b', 'host/path', 'h:99999999']) {
    assert.throws(() => base(request({ host: 'ok', 'x-forwarded-host': host })), (e: unknown) => e instanceof GatehouseError && e.code === 'GH_BAD_HEADER', host);
  }
  assert.equal(base(request({ host: '[::1]:8080' })), 'http://[::1]:8080');
});

test('resource and metadata URLs: the API path exactly, trailing slash kept', () => {
  assert.equal(resourceUrl('https://h', '/mcp/'), 'https://h/mcp/');
  assert.equal(metadataUrl('https://h', '/mcp/'), 'https://h/.well-known/oauth-protected-resource/mcp/');
  const ctx = authContextFor(request({ host: 'localhost:3000' }), 'main', '/mcp', compilePublicBase({ trustProxy: false }));
  assert.deepEqual({ ...ctx, req: undefined }, {
    req: undefined,
    api: 'main',
    publicBase: 'http://localhost:3000',
    resourceUrl: 'http://localhost:3000/mcp',
    metadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
  });
});
