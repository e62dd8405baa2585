// The admin listener sits on the port after the MCP listener's unless admin.port is set, so that
// `gatehouse start --port` (like `gatehouse demo --port`) moves both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { runCli, writeConfig } from './helpers/gatehouse.ts';
import { stopCli, waitForLogLines } from './helpers/lifecycle-procs.ts';

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A port p such that p and p + 1 were both free a moment ago. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = (await listen(0))!;
    const port = (first.address() as { port: number }).port;
    const next = port < 65535 ? await listen(port + 1) : undefined;
    await close(first);
    if (next) {
      await close(next);
      return port;
    }
  }
  throw new Error('no two consecutive free ports');
}

const CONFIG = (admin: string) => `listen: { host: 127.0.0.1, port: 8080 }
${admin}servers:
  e: { url: "http://127.0.0.1:9/mcp" }
apis:
  - { name: e, path: /mcp, server: e }
`;

async function portsOf(args: string[]): Promise<{ mcp: unknown; admin: unknown }> {
  const cli = runCli(args);
  try {
    const [mcp] = await waitForLogLines(cli, (l) => l.msg === 'gatehouse listening', 'the MCP listener', 1, 30_000);
    const [admin] = await waitForLogLines(cli, (l) => l.msg === 'admin listening', 'the admin listener', 1, 30_000);
    return { mcp: mcp!.port, admin: admin!.port };
  } finally {
    await stopCli(cli);
  }
}

test('start --port moves the admin listener to the next port when admin.port is not set; a set admin.port stays', { timeout: 90_000 }, async () => {
  const port = await freePortPair();
  assert.deepEqual(await portsOf(['start', '--config', writeConfig(CONFIG('')), '--port', String(port)]), { mcp: port, admin: port + 1 });

  const set = await freePortPair();
  const other = await freePortPair();
  assert.deepEqual(await portsOf(['start', '--config', writeConfig(CONFIG(`admin: { port: ${set} }\n`)), '--port', String(other)]), { mcp: other, admin: set });
});
