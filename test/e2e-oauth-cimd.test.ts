// Client ID Metadata Documents: a URL client_id is fetched with SSRF guards. By default only
// https URLs of public addresses are fetched, so every loopback or private target is refused
// before a connection is made. The happy path needs a document server, which in a test can only
// be on loopback: it runs with `authorizationServer.allowInsecureMetadataUrlsForTesting`, which
// lifts only the https/public-address rule; every other check (no redirects, JSON content type,
// size cap, client_id equal to the URL) still applies and is tested here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pkcePair, playUser, startOAuthGateway, tokenRequest, type OAuthSetup } from './helpers/oauth-flow.ts';

const REDIRECT = 'http://127.0.0.1:9998/callback';

/** A document server that counts what it is asked for. */
let docs: Server;
let docsOrigin: string;
const hits = new Map<string, number>();

before(async () => {
  docs = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const self = `${docsOrigin}${path}`;
    const doc = (extra: Record<string, unknown> = {}) => JSON.stringify({ client_id: self, client_name: 'Metadata Document App', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', ...extra });
    switch (path) {
      case '/apps/good.json':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(doc());
      case '/apps/mismatch.json':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(doc({ client_id: `${docsOrigin}/apps/other.json` }));
      case '/apps/redirect.json':
        return void res.writeHead(302, { location: `${docsOrigin}/apps/good.json` }).end();
      case '/apps/text.json':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(doc());
      case '/apps/big.json':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(doc({ padding: 'x'.repeat(20_000) }));
      case '/apps/secret.json':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(doc({ token_endpoint_auth_method: 'client_secret_basic' }));
      case '/apps/bad-redirect.json':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(doc({ redirect_uris: ['javascript:alert(1)'] }));
      default:
        return void res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  docsOrigin = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
});
after(async () => {
  docs.closeAllConnections();
  await new Promise<void>((resolve) => docs.close(() => resolve()));
});

async function authorize(setup: OAuthSetup, clientId: string, state = crypto.randomUUID()): Promise<{ url: string; verifier: string }> {
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state, resource: setup.url, scope: 'mcp' });
  return { url: `${setup.gh.origin}/oauth/authorize?${query}`, verifier };
}

async function refusedPage(setup: OAuthSetup, clientId: string): Promise<string> {
  const { url } = await authorize(setup, clientId);
  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 400, clientId);
  assert.equal(response.headers.get('location'), null, clientId);
  return response.text();
}

test('by default, metadata document URLs on loopback, private or link-local addresses are refused before any connection', async () => {
  const setup = await startOAuthGateway();
  try {
    const metadata = (await (await fetch(`${setup.gh.origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, true);
    hits.clear();
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/good.json`), /must use https/);
    const port = new URL(docsOrigin).port;
    for (const target of [
      `https://127.0.0.1:${port}/apps/good.json`,
      'https://localhost/apps/good.json',
      'https://10.0.0.1/apps/good.json',
      'https://172.16.5.4/apps/good.json',
      'https://192.168.1.1/apps/good.json',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/apps/good.json',
      'https://0.0.0.0/apps/good.json',
      'https://[::1]/apps/good.json',
      'https://[::ffff:127.0.0.1]/apps/good.json',
      'https://[::ffff:a9fe:a9fe]/apps/good.json',
      'https://[fd00::1]/apps/good.json',
      'https://[fe80::1]/apps/good.json',
    ]) {
      assert.match(await refusedPage(setup, target), /not a public address/, target);
    }
    for (const malformed of ['https://example.com/', 'https://user:pw@example.com/app.json', 'https://example.com/a/../app.json']) {
      assert.match(await refusedPage(setup, malformed), /client_id|path|credentials/, malformed);
    }
    assert.equal([...hits.values()].reduce((a, b) => a + b, 0), 0, 'the document server was never reached');
    // The token endpoint refuses such a client the same way.
    const token = await tokenRequest(setup.gh.origin, { grant_type: 'authorization_code', code: 'x', code_verifier: 'y'.repeat(43), client_id: 'https://10.0.0.1/apps/good.json' });
    assert.equal(token.status, 401);
    assert.equal(token.body.error, 'invalid_client');
  } finally {
    await setup.close();
  }
});

test('with metadata documents turned off, URL client ids are refused', async () => {
  const setup = await startOAuthGateway({ authorizationServer: { clientIdMetadataDocuments: false } });
  try {
    const metadata = (await (await fetch(`${setup.gh.origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, undefined);
    assert.match(await refusedPage(setup, 'https://app.example/client.json'), /turned off/);
  } finally {
    await setup.close();
  }
});

test('a metadata document client signs in, and bad documents are refused (test escape hatch on)', async () => {
  const setup = await startOAuthGateway({ authorizationServer: { allowInsecureMetadataUrlsForTesting: true } });
  try {
    assert.match(setup.gh.logs.text(), /allowInsecureMetadataUrlsForTesting is on/);
    hits.clear();
    const clientId = `${docsOrigin}/apps/good.json`;
    const { url, verifier } = await authorize(setup, clientId);
    const flow = await playUser(url);
    assert.match(flow.consentPage, /Metadata Document App/);
    assert.match(flow.consentPage, new RegExp(clientId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const code = flow.final.searchParams.get('code')!;
    const tokens = await tokenRequest(setup.gh.origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(hits.get('/apps/good.json'), 1, 'fetched once, then served from the cache');

    assert.match(await refusedPage(setup, `${docsOrigin}/apps/mismatch.json`), /client_id does not equal its URL/);
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/redirect.json`), /redirects are not followed/);
    assert.equal(hits.get('/apps/good.json'), 1, 'the redirect was not followed');
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/text.json`), /content type/);
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/big.json`), /larger than/);
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/secret.json`), /token_endpoint_auth_method/);
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/bad-redirect.json`), /javascript|redirect_uris/);
    assert.match(await refusedPage(setup, `${docsOrigin}/apps/missing.json`), /HTTP 404/);
  } finally {
    await setup.close();
  }
});
