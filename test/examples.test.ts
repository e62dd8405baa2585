// Every ready config in examples/ and every YAML config block in README.md validates, so that
// what people copy works. A README block whose first line is `# fragment` is a partial config:
// it is checked as YAML only, and reported as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, parseConfigText } from '../src/config/load.ts';
import { serversOf } from '../src/upstream/federation/plan.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = path.join(root, 'examples');
const SCHEMA_LINE = '# yaml-language-server: $schema=../schema/gatehouse.schema.json';

// The variables the examples and README reference, as a user would export them.
const env: NodeJS.ProcessEnv = { UPSTREAM_TOKEN: 'example-upstream-token', AGENT_KEY: 'example-agent-key-0123456789', KEYCLOAK_CLIENT_SECRET: 'example-client-secret', OKTA_CLIENT_SECRET: 'example-client-secret' };

const examples = existsSync(examplesDir)
  ? readdirSync(examplesDir)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()
  : [];

test('examples/ holds the ready configs', () => {
  assert.ok(examples.length > 0, 'examples/ has no YAML files');
  for (const name of ['unsecured-proxy.yaml', 'stdio-server.yaml', 'several-servers.yaml', 'behind-reverse-proxy.yaml']) {
    assert.ok(examples.includes(name), `examples/${name} exists`);
  }
});

for (const name of examples) {
  test(`examples/${name} validates and names the schema on its first line`, async () => {
    const file = path.join(examplesDir, name);
    assert.equal(readFileSync(file, 'utf8').split('\n')[0], SCHEMA_LINE);
    const config = await loadConfigFile(file, env);
    assert.ok(config.apis.length > 0);
    for (const api of config.apis) for (const server of serversOf(api)) assert.ok(server in config.servers, `${name}: ${api.name} names a defined server`);
  });
}

test('the examples use what they are named for', async () => {
  const load = (name: string) => loadConfigFile(path.join(examplesDir, name), env);
  const stdio = await load('stdio-server.yaml');
  const child = Object.values(stdio.servers).find((s) => 'command' in s);
  assert.ok(child && 'command' in child && child.command === 'npx' && Object.keys(child.env).length > 0 && child.maxChildren > 0);

  const several = await load('several-servers.yaml');
  const kinds = Object.values(several.servers).map((s) => ('url' in s ? 'url' : 'command' in s ? 'command' : 'sse'));
  assert.deepEqual([...new Set(kinds)].sort(), ['command', 'sse', 'url']);
  const withHeaders = Object.values(several.servers).filter((s) => 'headers' in s && s.headers);
  assert.ok(withHeaders.length > 0);
  for (const server of withHeaders) {
    assert.ok(Object.values((server as { headers: Record<string, string> }).headers).some((v) => v.includes('example-upstream-token')), 'headers take ${env:UPSTREAM_TOKEN}');
  }
  await assert.rejects(loadConfigFile(path.join(examplesDir, 'several-servers.yaml'), {}), /UPSTREAM_TOKEN/);

  const proxied = await load('behind-reverse-proxy.yaml');
  assert.equal(proxied.listen.host, '0.0.0.0');
  assert.ok(proxied.security.allowedHosts && proxied.security.allowedHosts.length > 0);
  assert.ok(proxied.security.allowedOrigins && proxied.security.allowedOrigins.length > 0);
  assert.equal(proxied.listen.port, 8080, 'port: ${env:PORT:-8080} without PORT');
  assert.equal((await loadConfigFile(path.join(examplesDir, 'behind-reverse-proxy.yaml'), { ...env, PORT: '9000' })).listen.port, 9000);
});

test('examples/behind-reverse-proxy.yaml, copied as is, exposes no open MCP endpoint (it was keyless on 0.0.0.0)', async () => {
  const proxied = await loadConfigFile(path.join(examplesDir, 'behind-reverse-proxy.yaml'), env);
  assert.notEqual(proxied.security.allowAnonymousOnPublicListener, true);
  for (const api of proxied.apis) {
    const plans = Array.isArray(api.auth) ? api.auth : [api.auth];
    assert.ok(plans.every((plan) => plan.type !== 'keyless'), `${api.name} requires a credential`);
  }
  assert.ok(proxied.agents.some((agent) => agent.apiKeys.length > 0), 'an agent with a key (from ${env:AGENT_KEY})');
});

test('the YAML configs in README.md validate', (t) => {
  const readme = path.join(root, 'README.md');
  if (!existsSync(readme)) {
    t.diagnostic('README.md does not exist: only examples/ is checked');
    assert.ok(examples.length > 0, 'examples/ has no YAML files');
    return;
  }
  const blocks = yamlBlocks(readFileSync(readme, 'utf8'));
  if (blocks.length === 0) {
    t.diagnostic('README.md has no ```yaml blocks: only examples/ is checked');
    assert.ok(examples.length > 0, 'examples/ has no YAML files');
    return;
  }
  for (const block of blocks) {
    const where = `README.md (yaml block at line ${block.line})`;
    if (block.text.split('\n')[0]?.trim() === '# fragment') {
      t.diagnostic(`${where}: a fragment, checked as YAML only`);
      assert.doesNotThrow(() => parseYaml(block.text), `${where} is valid YAML`);
      continue;
    }
    // The file name carries the README line, so a failure points at the block.
    try {
      parseConfigText(block.text, where, env);
    } catch (error) {
      assert.fail(`${where}: the YAML block is not a valid config (mark a partial one with a first line "# fragment"):\n${(error as Error).message}`);
    }
  }
});

/** ```yaml / ```yml blocks with the line their content starts on. */
function yamlBlocks(markdown: string): Array<{ line: number; text: string }> {
  const lines = markdown.split('\n');
  const blocks: Array<{ line: number; text: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*ya?ml\b/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trim().startsWith(fence)) body.push(lines[j++]!);
    blocks.push({ line: i + 2, text: body.join('\n') });
    i = j;
  }
  return blocks;
}
