// gatehouse demo (what `npm start` runs): the bundled server-everything, once over Streamable
// HTTP and once over stdio, published behind Gatehouse on loopback, for one demo agent whose API
// key is made anew at each start (the previous one is revoked by the config sync). A second demo
// on the same data directory is refused before it touches anything, so the running demo's key
// keeps working.
import path from 'node:path';
import { startEverything, everythingStdioCommand } from '../demo/everything.ts';
import { clientSnippets } from '../demo/client-snippets.ts';
import { generateApiKey } from '../auth/api-key.ts';
import { loadKey } from '../session/key.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import type { ConfigInput } from '../config/schema.ts';
import { runUntilSignalled } from './lifecycle.ts';
import { explainStartFailure } from './start-failure.ts';

export async function runDemo(options: { port?: number }): Promise<number> {
  const chosen = options.port ?? (process.env.PORT ? Number(process.env.PORT) : undefined);
  const port = chosen ?? 8080;
  const everything = await startEverything({ transport: 'streamableHttp' });
  const stdio = everythingStdioCommand();
  const agentKey = generateApiKey();
  // The key that seals upstream credentials at rest (gatehouse credentials set): created now,
  // mode 0600, so the demo's data directory is complete.
  await loadKey(credentialsKeySource(path.resolve(process.env.GATEHOUSE_DATA_DIR ?? '.gatehouse')));
  const config: ConfigInput = {
    listen: { host: '127.0.0.1', port },
    servers: {
      everything: { url: `${everything.origin}/mcp` },
      'everything-stdio': { command: stdio.command, args: stdio.args },
    },
    agents: [{ id: 'demo-agent', name: 'Demo agent', apiKeys: [{ value: agentKey }] }],
    apis: [
      { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'api-key' } },
      { name: 'everything-stdio', path: '/mcp-stdio', server: 'everything-stdio', auth: { type: 'api-key' } },
    ],
    // The dashboard next door to the MCP port (8081 beside 8080), so that --port moves both; set
    // explicitly, so that a taken port stops the demo rather than leaving it without a dashboard.
    admin: { port: port === 0 ? 0 : port + 1 },
  };
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config });
  } catch (error) {
    await everything.close();
    const another = chosen === undefined ? 'choose another with --port (npm start -- --port 8090)' : 'choose another --port';
    const line = explainStartFailure(error, {
      command: 'gatehouse demo',
      portHint: another,
      adminPortHint: `the dashboard takes the port after the MCP one (${port + 1}): ${another}`,
    });
    if (line === undefined) throw error;
    process.stderr.write(line + '\n');
    return 1;
  }
  const http = gateway.url('everything');
  const viaStdio = gateway.url('everything-stdio');
  // It is the demo: printing the admin token is intended (a real deployment keeps it in its data directory).
  const admin = gateway.admin
    ? ['Dashboard and metrics (admin listener):', `  ${gateway.admin.url}    admin token: ${gateway.admin.token.token}`, `  curl -H "Authorization: Bearer ${gateway.admin.token.token}" ${gateway.admin.url}metrics`, '']
    : [];
  const snippets = clientSnippets('gatehouse-demo', http, agentKey).flatMap((s) => [`  ${s.client} — ${s.where}:`, `    ${s.text}`]);
  process.stdout.write(
    [
      '',
      'Gatehouse demo is running.',
      '',
      `  MCP server over Streamable HTTP, through Gatehouse:  ${http}`,
      `  MCP server over stdio, through Gatehouse:            ${viaStdio}`,
      '',
      `Agent key (agent "demo-agent"; a new one at each start):  ${agentKey}`,
      '',
      'Point an MCP client at one of these URLs (transport: Streamable HTTP) with the header',
      `  Authorization: Bearer ${agentKey}`,
      `Client configurations for the first URL (the same with ${new URL(viaStdio).pathname} for the stdio one; more in docs/clients.md):`,
      ...snippets,
      '  MCP Inspector — a terminal:',
      `    npx @modelcontextprotocol/inspector --cli ${http} --transport http --header "Authorization: Bearer ${agentKey}" --method tools/list`,
      '',
      ...admin,
      'Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  return runUntilSignalled(gateway, { onStop: () => everything.close() });
}
