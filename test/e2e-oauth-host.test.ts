// Host and Origin on the routes that are not the MCP endpoint. The discovery documents, the
// authorization server's pages and endpoints, and the protected resource metadata all build URLs
// from the host the client used; they are guarded like the MCP endpoint, so a forged Host is
// refused rather than echoed into `resource`, `issuer` or `authorization_servers`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sendRaw } from './helpers/raw-http.ts';
import { startOAuthGateway, type OAuthSetup } from './helpers/oauth-flow.ts';
import { startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { validateConfig } from '../src/config/load.ts';
import { ConfigError } from '../src/config/errors.ts';

let setup: OAuthSetup;
let everything: RunningEverything;

before(async () => {
  setup = await startOAuthGateway();
  everything = await startEverything();
});
after(async () => {
  await setup?.close();
  await everything?.close();
});

const ROUTES: Array<{ path: string; method?: string; body?: string; type?: string }> = [
  { path: '/.well-known/oauth-protected-resource/mcp' },
  { path: '/.well-known/oauth-protected-resource' },
  { path: '/.well-known/oauth-authorization-server' },
  { path: '/.well-known/openid-configuration' },
  { path: '/oauth/jwks' },
  { path: '/oauth/authorize?client_id=x&response_type=code' },
  { path: '/oauth/login?interaction=aaaaaaaaaaaaaaaaaaaaaaaaa' },
  { path: '/oauth/register', method: 'POST', body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }), type: 'application/json' },
  { path: '/oauth/token', method: 'POST', body: 'grant_type=refresh_token&refresh_token=x&client_id=x', type: 'application/x-www-form-urlencoded' },
  { path: '/oauth/revoke', method: 'POST', body: 'token=x&client_id=x', type: 'application/x-www-form-urlencoded' },
];

function call(route: (typeof ROUTES)[number], headers: Array<[string, string]>) {
  const all: Array<[string, string]> = [...headers];
  if (route.type) all.push(['content-type', route.type]);
  return sendRaw(setup.gh.origin + route.path, { method: route.method ?? 'GET', headers: all, ...(route.body === undefined ? {} : { body: route.body }) });
}

test('a forged Host is refused on every discovery and authorization route, never echoed into resource or issuer (Host reflection)', async () => {
  for (const route of ROUTES) {
    const forged = await call(route, [['Host', 'evil.example']]);
    assert.equal(forged.status, 403, `${route.path}: ${forged.text.slice(0, 200)}`);
    assert.ok(!forged.text.includes('http://evil.example'), `${route.path} names no URL on the forged host`);
    assert.match(forged.text, /GH_FORBIDDEN_HOST/);
    const port = await call(route, [['Host', `evil.example:${setup.gh.gateway.port}`]]);
    assert.equal(port.status, 403, `${route.path} with a port`);
    const real = await call(route, [['Host', `127.0.0.1:${setup.gh.gateway.port}`]]);
    assert.notEqual(real.status, 403, `${route.path} with the real host: ${real.text.slice(0, 200)}`);
  }
  const metadata = JSON.parse((await call(ROUTES[0]!, [['Host', `localhost:${setup.gh.gateway.port}`]])).text) as { resource: string; authorization_servers: string[] };
  assert.equal(metadata.resource, `http://localhost:${setup.gh.gateway.port}/mcp`, 'a loopback name the listener accepts is still followed');
});

test('a foreign Origin is refused on the authorization server and the metadata; loopback and same-origin pass', async () => {
  const port = setup.gh.gateway.port;
  const host: [string, string] = ['Host', `127.0.0.1:${port}`];
  for (const route of ROUTES) {
    const foreign = await call(route, [host, ['Origin', 'https://evil.example']]);
    assert.equal(foreign.status, 403, route.path);
    assert.match(foreign.text, /GH_FORBIDDEN_ORIGIN/);
    for (const origin of [`http://127.0.0.1:${port}`, 'http://localhost:6274']) {
      assert.notEqual((await call(route, [host, ['Origin', origin]])).status, 403, `${route.path} from ${origin}`);
    }
  }
});

test('two Host headers are refused with 400 on the routes too', async () => {
  const answer = await call(ROUTES[2]!, [['Host', `127.0.0.1:${setup.gh.gateway.port}`], ['Host', 'evil.example']]);
  assert.equal(answer.status, 400);
  assert.match(answer.text, /GH_BAD_HEADER/);
});

test('a listener open to other machines that would build OAuth URLs from an unchecked Host is refused at load', () => {
  const base = {
    listen: { host: '0.0.0.0', port: 8080 },
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'tools', path: '/mcp', server: 'everything', auth: { type: 'oauth2' } }],
  };
  assert.throws(
    () => validateConfig(base, 'open.yaml'),
    (error: unknown) =>
      error instanceof ConfigError &&
      /open\.yaml/.test(error.message) &&
      /publicUrl/.test(error.message) &&
      /expected publicUrl .* or security\.allowedHosts/.test(error.message) &&
      /0\.0\.0\.0 accepts connections from other machines/.test(error.message),
  );
  assert.throws(() => validateConfig({ ...base, listen: { host: '127.0.0.1', port: 8080 }, security: { dnsRebindingProtection: false } }, 'off.yaml'), /dnsRebindingProtection is off/);
  const passthrough = { ...base, apis: [{ name: 'tools', path: '/mcp', server: 'everything', auth: { type: 'passthrough' } }] };
  assert.throws(() => validateConfig(passthrough, 'pt.yaml'), /expected publicUrl/);
  // Either answer is enough; API keys alone publish no URL.
  assert.doesNotThrow(() => validateConfig({ ...base, publicUrl: 'https://mcp.example.com' }, 'ok.yaml'));
  assert.doesNotThrow(() => validateConfig({ ...base, security: { allowedHosts: ['mcp.example.com'] } }, 'ok.yaml'));
  assert.doesNotThrow(() => validateConfig({ ...base, apis: [{ name: 'tools', path: '/mcp', server: 'everything', auth: { type: 'api-key' } }] }, 'ok.yaml'));
});
