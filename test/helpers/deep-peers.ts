// Failure injectors for deeply nested JSON from upstreams: servers that answer initialize
// normally and every other request with a result nested `DEEP_LEVELS` deep (preceded, on SSE, by
// a notification nested as deep). One speaks Streamable HTTP (SSE or JSON answers, chosen by the
// tool name `sse` or `json`); the other is a stdio command.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Far deeper than JSON.stringify can serialize (it overflows the stack near 5,000). */
export const DEEP_LEVELS = 10_000;

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

function deepAnswer(id: unknown): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"deep"}],"_meta":{"deep":${deep(DEEP_LEVELS)}}}}`;
}

const DEEP_NOTIFICATION = `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":${deep(DEEP_LEVELS)}}}`;

export async function startDeepHttpServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: unknown; method: string; params?: { name?: string; protocolVersion?: string } };
      if (message.method === 'initialize') {
        const result = { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'deep', version: '1.0.0' } };
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'deep-1' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      } else if (message.id === undefined) {
        res.writeHead(202).end();
      } else if (message.params?.name === 'json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(deepAnswer(message.id));
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`event: message\ndata: ${DEEP_NOTIFICATION}\n\nevent: message\ndata: ${deepAnswer(message.id)}\n\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A stdio server (command and args) that writes a deep notification, then a deep answer, to every request. */
export function deepStdioCommand(): { command: string; args: string[] } {
  const script = `
    const deep = (n) => '['.repeat(n) + ']'.repeat(n);
    require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
      const m = JSON.parse(line);
      if (m.method === 'initialize') {
        process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'deep', version: '1.0.0' } } }) + '\\n');
      } else if (m.id !== undefined) {
        process.stdout.write(${JSON.stringify(DEEP_NOTIFICATION)} + '\\n');
        process.stdout.write('{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"result":{"content":[],"_meta":{"deep":' + deep(${DEEP_LEVELS}) + '}}}\\n');
      }
    });`;
  return { command: process.execPath, args: ['-e', script] };
}
