// gatehouse demo (what `npm start` runs): the bundled server-everything, once over Streamable
// HTTP and once over stdio, published behind Gatehouse on loopback, for one demo agent whose API
// key is made anew at each start (the previous one is revoked by the config sync).
import path from 'node:path';
import { startEverything, everythingStdioCommand } from '../demo/everything.ts';
import { generateApiKey } from '../auth/api-key.ts';
import { loadKey } from '../session/key.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import { startGateway } from '../gateway.ts';
import type { ConfigInput } from '../config/schema.ts';
import { runUntilSignalled } from './lifecycle.ts';

export async function runDemo(options: { port?: number }): Promise<number> {
  const port = options.port ?? (process.env.PORT ? Number(process.env.PORT) : 8080);
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
    // The dashboard next door to the MCP port (8081 beside 8080), so that --port moves both.
    admin: { port: port === 0 ? 0 : port + 1 },
  };
  let gateway;
  try {
    gateway = await startGateway({ config });
  } catch (error) {
    await everything.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`gatehouse demo: port ${port} or ${port + 1} (the dashboard) is in use; try \`npm start -- --port 8090\`\n`);
      return 1;
    }
    throw error;
  }
  const http = gateway.url('everything');
  const viaStdio = gateway.url('everything-stdio');
  // It is the demo: printing the admin token is intended (a real deployment keeps it in its data directory).
  const admin = gateway.admin
    ? ['Dashboard and metrics (admin listener):', `  ${gateway.admin.url}    admin token: ${gateway.admin.token.token}`, `  curl -H "Authorization: Bearer ${gateway.admin.token.token}" ${gateway.admin.url}metrics`, '']
    : [];
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
      'e.g.',
      `  npx @modelcontextprotocol/inspector --cli ${http} --transport http --header "Authorization: Bearer ${agentKey}" --method tools/list`,
      'or in a client config:',
      `  { "mcpServers": { "everything": { "type": "http", "url": "${http}", "headers": { "Authorization": "Bearer ${agentKey}" } } } }`,
      '',
      ...admin,
      'Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  return runUntilSignalled(gateway, { onStop: () => everything.close() });
}
