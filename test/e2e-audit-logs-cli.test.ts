// `gatehouse logs` reads the audit log of a config from the terminal: a table by default, JSON
// lines with --json, filters by agent, tool, method, API, status, decision and time, and
// --follow prints new records as a running gateway writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MCP_HEADERS, INIT_REQUEST, raw, rawSession, runCli, sessionHeaders, startEverything, startTestGateway, tempDir } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { parseConfigText } from '../src/config/load.ts';
import type { AuditEvent } from '../src/audit/event.ts';

const KEYS = { alice: 'alice-audit-key-2b7e151628aed2a6', bob: 'bob-audit-key-abf7158809cf4f3c' };

/** Runs `gatehouse logs` to completion; returns stdout+stderr and the exit code. */
async function logs(args: string[]): Promise<{ code: number | null; out: string }> {
  const cli = runCli(['logs', ...args]);
  const { code } = await cli.exited;
  return { code, out: cli.output() };
}

function jsonLines(out: string): AuditEvent[] {
  return out.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
}

test('gatehouse logs: table, JSON lines, filters and --follow', { timeout: 90_000 }, async (t) => {
  const everything = await startEverything();
  const dir = tempDir();
  const file = path.join(dir, 'gatehouse.yaml');
  const text = `servers:
  everything:
    url: ${everything.origin}/mcp
agents:
  - id: alice
    apiKeys: [{ value: ${KEYS.alice} }]
  - id: bob
    apiKeys: [{ value: ${KEYS.bob} }]
apis:
  - name: tools
    path: /mcp
    server: everything
    auth: { type: api-key, header: x-api-key }
    policies:
      - acl:
          rules:
            - name: alice-all
              condition: agent.id == "alice"
              features: [{ type: tools, methods: [tools/list, tools/call], pattern: { type: any } }]
            - name: bob-echo
              features: [{ type: tools, methods: [tools/list, tools/call], pattern: { type: literal, value: echo } }]
  - name: other
    path: /other
    server: everything
audit:
  sink: { type: sqlite, file: audit/records.db }
`;
  writeFileSync(file, text);
  const config = parseConfigText(text, file);
  // The in-process gateway writes where the file says (relative to the file).
  const gh = await startTestGateway({ ...config, audit: { ...config.audit, sink: { type: 'sqlite', file: path.join(dir, 'audit', 'records.db') } }, listen: { host: '127.0.0.1', port: 0 } }, { dataDir: path.join(dir, '.gatehouse') });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });

  const call = async (who: keyof typeof KEYS, session: string, id: number, name: string) =>
    raw(gh.url('tools'), { headers: { ...sessionHeaders(session), 'x-api-key': KEYS[who] }, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: name === 'get-sum' ? { a: 1, b: 2 } : { message: `${who}-${id}` } } } });
  const alice = await rawSession(gh.url('tools'), { 'x-api-key': KEYS.alice });
  const bob = await rawSession(gh.url('tools'), { 'x-api-key': KEYS.bob });
  assert.equal((await call('alice', alice, 2, 'echo')).status, 200);
  assert.equal((await call('alice', alice, 3, 'get-sum')).status, 200);
  assert.equal((await call('bob', bob, 2, 'echo')).status, 200);
  assert.equal((await call('bob', bob, 3, 'get-sum')).status, 200); // refused by the ACL, answered as missing
  await raw(gh.url('tools'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST }); // no key: 401
  await rawSession(gh.url('other'));
  const all = await recordsWhen(gh.gateway, {}, (events) => events.length === 11);
  assert.equal(all.length, 11, JSON.stringify(all.map((e) => [e.api, e.agent, e.method])));

  // The table: a header and one line per record, oldest first.
  const table = await logs(['--config', file]);
  assert.equal(table.code, 0, table.out);
  const rows = table.out.trimEnd().split('\n');
  assert.match(rows[0]!, /^TIME\s+API\s+AGENT\s+METHOD\s+SERVER\s+TARGET\s+DECISION\s+STATUS\s+DURATION$/);
  assert.equal(rows.length, 12);
  assert.match(rows.find((r) => r.includes('bob') && r.includes('get-sum'))!, /tools\s+bob\s+tools\/call\s+everything\s+get-sum\s+denied acl\s+200\s+\d+(\.\d)?ms$/);
  assert.match(rows.find((r) => r.includes('alice') && r.includes('get-sum'))!, /allowed\s+200\s/);
  assert.match(rows.find((r) => r.includes('(unauthenticated)'))!, /POST\s+denied auth\s+401 -32040/);

  // Filters, each checked against what the gateway recorded.
  const expect = async (args: string[], where: (e: AuditEvent) => boolean) => {
    const { code, out } = await logs(['--config', file, '--json', ...args]);
    assert.equal(code, 0, out);
    const got = jsonLines(out);
    assert.deepEqual(got.map((e) => e.id), all.filter(where).map((e) => e.id).reverse(), `gatehouse logs ${args.join(' ')}`);
    return got;
  };
  const aliceOnly = await expect(['--agent', 'alice'], (e) => e.agent === 'alice');
  assert.equal(aliceOnly.length, 4);
  await expect(['--tool', 'get-sum'], (e) => e.target === 'get-sum');
  await expect(['--method', 'initialize'], (e) => e.method === 'initialize');
  await expect(['--api', 'other'], (e) => e.api === 'other');
  await expect(['--server', 'everything'], (e) => e.server === 'everything');
  assert.equal((await expect(['--server', 'nowhere'], () => false)).length, 0);
  await expect(['--decision', 'denied'], (e) => e.decision === 'denied');
  await expect(['--status', 'error'], (e) => e.status >= 400 || e.errorCode !== undefined);
  await expect(['--agent', 'bob', '--tool', 'echo'], (e) => e.agent === 'bob' && e.target === 'echo');
  await expect(['--since', '1h', '--limit', '3'], (e) => all.slice(0, 3).includes(e));
  const direct = await logs(['--file', path.join(dir, 'audit', 'records.db'), '--json', '--api', 'other']);
  assert.deepEqual(jsonLines(direct.out).map((e) => e.method), ['initialize', 'notifications/initialized'], '--file reads an audit file without a config');
  const future = await logs(['--config', file, '--json', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
  assert.equal(future.out, '', 'nothing since an hour from now');

  // Refusals: a bad option, a config whose audit log does not exist yet.
  const bad = await logs(['--config', file, '--status', 'weird']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /--status.*(ok|error)/);
  const emptyDir = tempDir();
  const emptyConfig = path.join(emptyDir, 'gatehouse.yaml');
  writeFileSync(emptyConfig, `servers: { e: { url: ${everything.origin}/mcp } }\napis: [{ name: e, path: /mcp, server: e }]\n`);
  const none = await logs(['--config', emptyConfig]);
  assert.equal(none.code, 1);
  assert.match(none.out, /no audit log yet: .*audit\.db does not exist/);

  // --follow: the newest records first, then what the gateway writes next.
  // A test that timed out goes on running: it must not start a process its after-hooks no longer stop.
  if (t.signal.aborted) return;
  const follow = runCli(['logs', '--config', file, '--follow', '--json', '--agent', 'alice', '--limit', '1', '--interval', '100']);
  t.after(() => follow.child.kill('SIGKILL'));
  await follow.waitFor(/"rpcId":"3"/);
  assert.equal((await call('bob', bob, 9, 'echo')).status, 200);
  assert.equal((await call('alice', alice, 9, 'echo')).status, 200);
  await recordsWhen(gh.gateway, { agent: 'alice' }, (events) => events.some((e) => e.rpcId === '9'));
  await follow.waitFor(/"rpcId":"9"/);
  follow.child.kill('SIGINT');
  assert.equal((await follow.exited).code, 0);
  const followed = jsonLines(follow.output());
  assert.deepEqual(followed.map((e) => [e.agent, e.rpcId]), [
    ['alice', '3'],
    ['alice', '9'],
  ], 'only the filtered records, each once');
});
