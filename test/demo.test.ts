// `npm start` runs `gatehouse demo`: the bundled server behind Gatehouse, a dashboard, and a printed
// agent key that an MCP client can use as printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { raw, INIT_REQUEST, MCP_HEADERS, runCli, tempDir } from './helpers/gatehouse.ts';

test('the demo prints URLs and an agent key that work as printed; no key is refused', async (t) => {
  const dataDir = tempDir();
  const demo = runCli(['demo', '--port', '0'], { GATEHOUSE_DATA_DIR: dataDir });
  t.after(async () => {
    demo.child.kill('SIGTERM');
    await demo.exited;
  });
  await demo.waitFor(/Stop with Ctrl\+C/, 30_000);
  const out = demo.output();
  const http = /through Gatehouse:\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)\n/.exec(out)?.[1];
  const stdio = /(http:\/\/127\.0\.0\.1:\d+\/mcp-stdio)/.exec(out)?.[1];
  const key = /Agent key[^:]*:\s+(gh_\w+)/.exec(out)?.[1];
  assert.ok(http && stdio && key, `printed URLs and key: ${out}`);
  assert.match(out, /admin token: \S+/);
  for (const url of [http, stdio]) {
    const client = new Client({ name: 'demo-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'demo' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: demo' }]);
    await client.close();
  }
  const anonymous = await raw(http, { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(anonymous.status, 401);
  assert.equal(statSync(path.join(dataDir, 'credentials.key')).mode & 0o777, 0o600, 'the credentials key file is private');
});
