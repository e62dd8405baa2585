// A tenant's egress: its servers reach public addresses, and private ones only when the platform
// lists them (tenants[].egress.allow). An address the URL names is refused with the config; a host
// name is checked when connecting, after it resolves (this machine's own host name resolves to a
// loopback or private address, which stands for an internal service here). Against the real
// server-everything, with the SDK client and raw requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { lookup } from 'node:dns/promises';
import { isPublicAddress } from '../src/authserver/ssrf.ts';
import { validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { INIT_REQUEST, MCP_HEADERS, connectClient, raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';

let everything: RunningEverything;
let gh: TestGateway;
const host = os.hostname();
let hostAddresses: string[] = [];

function config(acmeAllow: string[] | undefined): Omit<ConfigInput, 'listen'> {
  const port = new URL(everything.origin).port;
  return {
    tenants: [
      { id: 'acme', pathPrefix: '/acme', ...(acmeAllow && { egress: { allow: acmeAllow } }) },
      { id: 'globex', pathPrefix: '/globex', egress: { allow: ['127.0.0.1'] } },
    ],
    servers: {
      // Named by the host name: allowed or refused when connecting.
      'acme-everything': { url: `http://${host}:${port}/mcp`, tenant: 'acme' },
      // Its credential's token endpoint is held to the same egress.
      'acme-with-token': {
        url: `http://${host}:${port}/mcp`,
        tenant: 'acme',
        credential: { type: 'client-credentials', tokenUrl: `http://${host}:${port}/token`, clientId: 'acme-client', clientSecret: 'acme-client-secret-0123' },
      },
      'globex-everything': { url: `${everything.origin}/mcp`, tenant: 'globex' },
      // The platform's own server: not limited.
      everything: { url: `${everything.origin}/mcp` },
    },
    apis: [
      { name: 'acme', path: '/acme/mcp', server: 'acme-everything', tenant: 'acme', auth: { type: 'keyless' } },
      { name: 'globex', path: '/globex/mcp', server: 'globex-everything', tenant: 'globex', auth: { type: 'keyless' } },
      { name: 'platform', path: '/mcp', server: 'everything', auth: { type: 'keyless' } },
      { name: 'acme-token', path: '/acme/token', server: 'acme-with-token', tenant: 'acme', auth: { type: 'keyless' } },
      // A federated API of the tenant: a refused member is left out as an unreachable one.
      { name: 'acme-all', path: '/acme/all', servers: ['acme-everything'], tenant: 'acme', auth: { type: 'keyless' } },
    ],
  };
}

before(async () => {
  hostAddresses = (await lookup(host, { all: true })).map((a) => a.address);
  everything = await startEverything();
  gh = await startTestGateway(config(undefined));
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

test("a tenant's server whose host name resolves to a private address is refused when connecting: 502, -32019 GH_EGRESS_REFUSED, naming the address; other tenants and the platform are served", async (t) => {
  if (hostAddresses.every((address) => isPublicAddress(address))) return t.skip(`this machine's host name ${host} resolves to public addresses only (${hostAddresses.join(', ')})`);
  const refused = await raw(gh.url('acme'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(refused.status, 502);
  const body = refused.messages[0] as { error: { code: number; message: string; data: { code: string } } };
  assert.equal(body.error.code, -32019);
  assert.equal(body.error.data.code, 'GH_EGRESS_REFUSED');
  assert.match(body.error.message, new RegExp(`${host} \\(.+\\) is outside the egress of tenant "acme"`));
  // The SDK client sees the refusal too.
  await assert.rejects(connectClient(gh.url('acme')), /outside the egress of tenant/);
  // A federated API of the tenant leaves the refused member out, as an unreachable one.
  const federated = await connectClient(gh.url('acme-all'));
  try {
    assert.deepEqual((await federated.client.listTools()).tools, []);
  } finally {
    await federated.close();
  }
  assert.ok(gh.logs.text().includes('outside the egress of tenant'), 'the log says why the member was left out');
  for (const api of ['globex', 'platform']) {
    const { client, close } = await connectClient(gh.url(api));
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: api } });
      assert.deepEqual(result.content, [{ type: 'text', text: `Echo: ${api}` }]);
    } finally {
      await close();
    }
  }
});

test("listing the host name in the tenant's egress lets its server be reached, on reload, without a restart; removing it refuses again", async (t) => {
  if (!hostAddresses.includes('127.0.0.1')) return t.skip(`this machine's host name ${host} does not resolve to 127.0.0.1, where the test server listens`);
  gh.gateway.reload({ ...validateConfig(config([host])), listen: { host: '127.0.0.1', port: gh.gateway.port } });
  const { client, close } = await connectClient(gh.url('acme'));
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'allowed' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: allowed' }]);
  } finally {
    await close();
  }
  // A CIDR that holds the address works as the name did; a range that does not, refuses.
  gh.gateway.reload({ ...validateConfig(config(['127.0.0.0/8'])), listen: { host: '127.0.0.1', port: gh.gateway.port } });
  const viaRange = await raw(gh.url('acme'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(viaRange.status, 200);
  gh.gateway.reload({ ...validateConfig(config(['10.0.0.0/8'])), listen: { host: '127.0.0.1', port: gh.gateway.port } });
  const outside = await raw(gh.url('acme'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(outside.status, 502);
  assert.equal((outside.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_EGRESS_REFUSED');
});

test("the dashboard's health probe of a tenant's server goes under the tenant's egress: refused, it reports why instead of probing", async (t) => {
  if (hostAddresses.every((address) => isPublicAddress(address))) return t.skip(`this machine's host name ${host} resolves to public addresses only`);
  gh.gateway.reload({ ...validateConfig(config(undefined)), listen: { host: '127.0.0.1', port: gh.gateway.port } });
  const { upstreams } = await import('../src/admin/api/upstreams.ts');
  const { HealthProbes } = await import('../src/admin/api/health.ts');
  const views = await upstreams(gh.gateway.config, {}, new HealthProbes(), undefined);
  const acme = views.find((v) => v.name === 'acme-everything');
  const globex = views.find((v) => v.name === 'globex-everything');
  assert.equal(acme?.probe?.status, 'down');
  assert.match(acme?.probe?.error ?? '', /outside the egress of tenant "acme"/);
  assert.equal(globex?.probe?.status, 'up');
});

test("the token endpoint of a tenant's server credential is held to the tenant's egress: no token request leaves, the log says why, and the secret is not in it", async (t) => {
  if (hostAddresses.every((address) => isPublicAddress(address))) return t.skip(`this machine's host name ${host} resolves to public addresses only`);
  gh.gateway.reload({ ...validateConfig(config(undefined)), listen: { host: '127.0.0.1', port: gh.gateway.port } });
  const refused = await raw(gh.url('acme-token'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(refused.status, 502);
  assert.equal((refused.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_UPSTREAM_UNAVAILABLE');
  const line = gh.logs.lines.find((l) => l.msg === 'upstream token request failed' && l.server === 'acme-with-token');
  assert.match(String(line?.err), new RegExp(`${host} \\(.+\\) is outside the egress of tenant "acme"`));
  assert.ok(!gh.logs.text().includes('acme-client-secret-0123'));
});
