// A small stdio MCP server built with the SDK (1.x), for tests of how Gatehouse copes with a
// child that misbehaves: a tool that never answers (it reports on stderr when it is cancelled),
// a tool that floods stderr, and a mute mode that answers nothing at all. Run it with `node --import tsx test/helpers/stdio-test-server.ts`
// (stdioTestServer() gives the command and arguments).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

/** The stderr line the server writes when a request is cancelled: `cancelled <requestId>`. */
export const CANCELLED_LINE = /^cancelled (\S+)$/;

/**
 * Command, arguments and working directory that run this server over stdio. `mute`: a process
 * that reads stdin and never answers anything, initialize included.
 */
export function stdioTestServer(options: { mute?: boolean } = {}): { command: string; args: string[]; cwd: string } {
  const file = fileURLToPath(import.meta.url);
  return { command: process.execPath, args: ['--import', 'tsx', file, ...(options.mute ? ['--mute'] : [])], cwd: path.resolve(path.dirname(file), '..', '..') };
}

async function main(): Promise<void> {
  if (process.argv.includes('--mute')) {
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
    return;
  }
  const server = new McpServer({ name: 'stdio-test-server', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes the message back', inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: `Echo: ${message}` }],
  }));
  server.registerTool('never-answers', { description: 'Never answers; says on stderr when it is cancelled', inputSchema: {} }, (_args, extra) =>
    new Promise(() => {
      extra.signal.addEventListener('abort', () => process.stderr.write(`cancelled ${String(extra.requestId)}\n`));
    }),
  );
  server.registerTool(
    'flood-stderr',
    { description: 'Writes `lines` lines of `length` characters to stderr, then answers', inputSchema: { lines: z.number().int(), length: z.number().int() } },
    async ({ lines, length }) => {
      const line = 'x'.repeat(length) + '\n';
      const chunk = line.repeat(Math.max(1, Math.floor(65_536 / line.length)));
      const perChunk = chunk.length / line.length;
      let written = 0;
      while (written < lines) {
        const n = Math.min(perChunk, lines - written);
        const text = n === perChunk ? chunk : line.repeat(n);
        if (!process.stderr.write(text)) await new Promise((resolve) => process.stderr.once('drain', resolve));
        written += n;
      }
      return { content: [{ type: 'text', text: `wrote ${lines} lines` }] };
    },
  );
  await server.connect(new StdioServerTransport());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
