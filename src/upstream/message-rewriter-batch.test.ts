// What the response rewriter does with messages a policy must read but that are not one JSON-RPC
// message: the answer to a 2025-03-26 batch (a JSON array) and JSON that is no message at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { SseRewriter } from './message-rewriter.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';

/** A response that keeps what is written to it (SseRewriter only writes and ends). */
function sink(): { res: ServerResponse; text(): string } {
  let out = '';
  const res = { write: (chunk: string) => ((out += chunk), true), end: () => undefined } as unknown as ServerResponse;
  return { res, text: () => out };
}

/** Hides every tool but echo from tools lists; drops nothing else. */
function hideTools(message: JsonRpcMessage): JsonRpcMessage | undefined {
  if ('result' in message && message.result && typeof message.result === 'object' && 'tools' in message.result) {
    const tools = (message.result as { tools: Array<{ name: string }> }).tools.filter((t) => t.name === 'echo');
    return { ...message, result: { ...message.result, tools } };
  }
  return message;
}

async function rewrite(events: string): Promise<string> {
  const { res, text } = sink();
  const rewriter = new SseRewriter(res, hideTools, { maxBytes: 1 << 20, maxJsonDepth: 128 }, undefined);
  await new Promise<void>((resolve, reject) => rewriter.end(Buffer.from(events), () => resolve()).on('error', reject));
  return text();
}

test('every message of a batch answer goes through the transform (the array was relayed unread)', async () => {
  const batch = [
    { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'echo' }, { name: 'get-env' }] } },
    { jsonrpc: '2.0', id: 2, result: {} },
  ];
  const out = await rewrite(`id: 9\ndata: ${JSON.stringify(batch)}\n\n`);
  assert.ok(!out.includes('get-env'), out);
  const data = JSON.parse(/data: (.*)\n/.exec(out)![1]!) as unknown[];
  assert.deepEqual(data, [{ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'echo' }] } }, { jsonrpc: '2.0', id: 2, result: {} }]);
});

test('JSON that is no JSON-RPC message is dropped, not relayed unread; other data passes', async () => {
  const invalid = { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'get-env' }] }, error: { code: 1, message: 'both' } };
  const out = await rewrite(`id: 3\ndata: ${JSON.stringify(invalid)}\n\ndata: not json\n\n`);
  assert.ok(!out.includes('get-env'), out);
  assert.match(out, /^id: 3\ndata: \n\n/, 'the dropped event keeps its id');
  assert.match(out, /data: not json\n\n$/);
});
