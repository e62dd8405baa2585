import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startEverythingBehindGatehouse } from './helpers/gatehouse.ts';

test('the SDK client lists and calls tools through Gatehouse over HTTP and stdio upstreams', async (t) => {
  const env = await startEverythingBehindGatehouse();
  t.after(() => env.close());
  for (const api of ['everything', 'everything-stdio']) {
    const { client, close } = await connectClient(env.gh.url(api));
    const tools = await client.listTools();
    assert.ok(tools.tools.some((tool) => tool.name === 'echo'), `${api}: echo listed`);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: hello' }]);
    await close();
  }
});
