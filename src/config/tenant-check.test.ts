import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from './load.ts';
import { ConfigError } from './errors.ts';

const TENANTS = `tenants:
  - id: acme
    name: Acme Corp
    pathPrefix: /acme
  - id: globex
servers:
  weather:
    url: http://weather.example:3001/mcp
    tenant: acme
  shared:
    url: http://127.0.0.1:3002/mcp
apis:
  - name: weather
    path: /acme/weather
    server: weather
    tenant: acme
  - name: shared
    path: /shared
    server: shared
`;

function problems(text: string): ConfigError {
  try {
    parseConfigText(text, 'gatehouse.yaml', {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected the config to be refused');
}

function refuses(text: string, field: string, message: RegExp, line?: number): void {
  const error = problems(text);
  const problem = error.problems.find((p) => p.field === field);
  assert.ok(problem, `no problem for ${field} in:\n${error.message}`);
  assert.match(problem.message, message);
  if (line !== undefined) assert.equal(problem.line, line);
  assert.match(error.message, new RegExp(`gatehouse\\.yaml:\\d+:\\d+: ${field.replace(/[[\].]/g, '\\$&')}: `));
}

test('a config with tenants loads; what names no tenant is the default tenant', () => {
  const config = parseConfigText(TENANTS, 'gatehouse.yaml', {});
  assert.deepEqual(config.tenants.map((t) => t.id), ['acme', 'globex']);
  assert.equal(config.apis[0]!.tenant, 'acme');
  assert.equal(config.apis[1]!.tenant, undefined);
});

test('a config without tenants keeps an agent\'s tenant as a label (no tenant need be declared)', () => {
  const text = `servers:\n  a:\n    url: http://127.0.0.1:3001/mcp\napis:\n  - name: a\n    path: /mcp\n    server: a\n    auth: { type: api-key }\nagents:\n  - id: bob\n    tenant: Acme Inc\n`;
  assert.equal(parseConfigText(text, 'gatehouse.yaml', {}).agents[0]!.tenant, 'Acme Inc');
});

test('a tenant that is not declared is refused where it is named', () => {
  refuses(TENANTS.replace('    tenant: acme\n  shared', '    tenant: initech\n  shared'), 'servers.weather.tenant', /no tenant "initech"; expected one of the ids under `tenants` \(default, acme, globex\)/, 9);
  refuses(TENANTS.replace('    server: weather\n    tenant: acme', '    server: weather\n    tenant: umbrella'), 'apis[0].tenant', /no tenant "umbrella"/, 16);
  refuses(`${TENANTS}agents:\n  - id: bob\n    tenant: nobody\n`, 'agents[0].tenant', /no tenant "nobody"/);
  // Without `tenants`, a server or API naming one is refused all the same.
  refuses('servers:\n  a:\n    url: http://127.0.0.1:3001/mcp\n    tenant: acme\napis:\n  - name: a\n    path: /mcp\n    server: a\n', 'servers.a.tenant', /no tenant "acme"; expected one of the ids under `tenants` \(default\)/, 4);
  refuses(`${TENANTS}`.replace('  - id: globex\n', '  - id: acme\n'), 'tenants[1].id', /duplicate tenant id "acme" \(also tenants\[0\]\)/);
  refuses(TENANTS.replace('  - id: globex', '  - id: Globex'), 'tenants[1].id', /expected a tenant id of lowercase letters/);
});

test('an API may only use servers of its own tenant (single, federated and virtual); another tenant\'s server reads as a missing one', () => {
  refuses(TENANTS.replace('    server: shared\n', '    server: weather\n'), 'apis[1].server', /^no server named "weather" in tenant "default" \(an API uses servers of its own tenant\); expected one of shared$/, 19);
  const missing = problems(TENANTS.replace('    server: shared\n', '    server: nowhere\n')).problems.find((p) => p.field === 'apis[1].server')!;
  assert.equal(missing.message, 'no server named "nowhere" in tenant "default" (an API uses servers of its own tenant); expected one of shared', 'the same words as for a foreign server, and no other tenant\'s names');
  refuses(TENANTS.replace('    server: shared\n', '    servers: [shared, weather]\n'), 'apis[1].servers[1]', /no server named "weather" in tenant "default"/);
  refuses(TENANTS.replace('    server: shared\n', '    tools:\n      - { server: weather, name: forecast }\n'), 'apis[1].tools[0].server', /no server named "weather" in tenant "default"/);
});

test('a tenant\'s APIs must live under its path prefix; paths are unique across tenants', () => {
  refuses(TENANTS.replace('path: /acme/weather', 'path: /weather'), 'apis[0].path', /expected a path under "\/acme" \(the path prefix of tenant "acme"\), e\.g\. \/acme\/weather/, 14);
  refuses(TENANTS.replace('path: /acme/weather', 'path: /acmeweather'), 'apis[0].path', /expected a path under "\/acme"/);
  refuses(TENANTS.replace('path: /shared', 'path: /acme/weather/'), 'apis[1].path', /duplicate path "\/acme\/weather\/" \(also apis\[0\]\); a path is unique across the deployment/);
});

test('an agent\'s key bound to an API names an API of the agent\'s tenant', () => {
  const agents = `agents:\n  - id: bob\n    tenant: globex\n    apiKeys:\n      - sha256: ${'a'.repeat(64)}\n        api: weather\n`;
  refuses(`${TENANTS}${agents}`, 'agents[0].apiKeys[0].api', /API "weather" belongs to tenant "acme"; a key of an agent of tenant "globex" may only name APIs of its own tenant/);
  assert.equal(parseConfigText(`${TENANTS}${agents.replace('globex', 'acme')}`, 'gatehouse.yaml', {}).agents[0]!.tenant, 'acme');
});

test('a tenant\'s server may only use a stored credential of its tenant ("<tenant>.<name>"), and the default tenant none of theirs', () => {
  const urlOf = (server: string) => (server === 'weather' ? 'http://weather.example:3001/mcp' : 'http://127.0.0.1:3002/mcp');
  const stored = (server: string, name: string) => TENANTS.replace(`  ${server}:\n    url: ${urlOf(server)}\n`, `  ${server}:\n    url: ${urlOf(server)}\n    credential: { type: stored, name: ${name} }\n`);
  refuses(stored('weather', 'weather-key'), 'servers.weather.credential.name', /stored credential "weather-key" belongs to tenant "default", not to this server's tenant "acme"; a tenant's credentials are named "<tenant>.<name>" \(e\.g\. "acme\.weather"\)/);
  refuses(stored('weather', 'globex.key'), 'servers.weather.credential.name', /belongs to tenant "globex"/);
  refuses(stored('shared', 'acme.key'), 'servers.shared.credential.name', /stored credential "acme\.key" belongs to tenant "acme", not to this server's tenant "default"/);
  parseConfigText(stored('weather', 'acme.weather'), 'gatehouse.yaml', {});
  parseConfigText(stored('shared', 'shared-key'), 'gatehouse.yaml', {});
});

test('a tenant\'s quotas of APIs and agents: the first one beyond is refused, naming the quota', () => {
  const quota = TENANTS.replace('    pathPrefix: /acme\n', '    pathPrefix: /acme\n    quotas: { apis: 1, agents: 1 }\n');
  parseConfigText(quota, 'gatehouse.yaml', {});
  const twoApis = `${quota}  - name: weather2\n    path: /acme/two\n    server: weather\n    tenant: acme\n`;
  refuses(twoApis, 'apis[2]', /^tenant "acme" may have at most 1 APIs \(tenants\[0\]\.quotas\.apis\); this is one more$/);
  const twoAgents = `${quota}agents:\n  - id: a1\n    tenant: acme\n  - id: other\n  - id: a2\n    tenant: acme\n`;
  refuses(twoAgents, 'agents[2]', /^tenant "acme" may have at most 1 agents \(tenants\[0\]\.quotas\.agents\); this is one more$/);
  refuses(quota.replace('quotas: { apis: 1, agents: 1 }', 'quotas: { requestsPerDay: 0 }'), 'tenants[0].quotas.requestsPerDay', /expected number to be >0|Too small/);
});

test("a tenant's server at an address its egress does not allow is refused, naming the field and where to allow it; the default tenant's servers are not limited", () => {
  const at = (url: string, egress = '') => TENANTS.replace('    pathPrefix: /acme\n', `    pathPrefix: /acme\n${egress}`).replace('http://weather.example:3001/mcp', url);
  refuses(at('http://127.0.0.1:3001/mcp'), 'servers.weather.url', /127\.0\.0\.1 is outside the egress of tenant "acme".*tenants\[0\]\.egress\.allow/, 8);
  refuses(at('http://169.254.169.254/mcp'), 'servers.weather.url', /169\.254\.169\.254 is outside the egress/, 8);
  refuses(at('http://[::1]:3001/mcp'), 'servers.weather.url', /::1 is outside the egress/, 8);
  refuses(at('http://localhost:3001/mcp'), 'servers.weather.url', /localhost \(a loopback address\) is outside the egress/, 8);
  refuses(at('http://10.1.2.3/mcp', '    egress: { allow: [10.0.0.0/16] }\n'), 'servers.weather.url', /10\.1\.2\.3 is outside/, 9);
  refuses(at('http://x.example/mcp', '    egress: { allow: ["10.0.0.0/33"] }\n'), 'tenants[0].egress.allow[0]', /expected a host name .* a CIDR range .*got "10\.0\.0\.0\/33"/, 5);
  refuses(at('http://x.example/mcp', '    egress: { allow: ["http://x"] }\n'), 'tenants[0].egress.allow[0]', /got "http:\/\/x"/, 5);
  for (const [url, allow] of [
    ['http://10.0.4.5/mcp', '10.0.0.0/16'],
    ['http://127.0.0.1:3001/mcp', '127.0.0.1'],
    ['http://mcp.internal/mcp', '*.corp.example'], // a name is checked when connecting, after it resolves
    ['http://localhost:3001/mcp', 'localhost'],
    ['http://[fd00::5]/mcp', 'fd00::/8'],
    ['https://93.184.216.34/mcp', '10.0.0.0/8'], // public
  ] as const) {
    assert.doesNotThrow(() => parseConfigText(at(url, `    egress: { allow: ["${allow}"] }\n`), "gatehouse.yaml", {}), `${url} under ${allow}`);
  }
  // A credential's token endpoint is held to it too.
  refuses(at('http://x.example/mcp').replace('    tenant: acme\n', '    tenant: acme\n    credential: { type: client-credentials, tokenUrl: "http://10.0.0.7/token", clientId: a, clientSecret: b }\n'), 'servers.weather.credential.tokenUrl', /10\.0\.0\.7 is outside the egress of tenant "acme"/);
  // The default tenant's server (shared) is at 127.0.0.1 in every case above.
});
