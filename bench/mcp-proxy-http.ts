// mcp-proxy (npm) in front of a Streamable HTTP server. Its CLI only spawns stdio servers, so this
// composes its library the way its CLI does (createProxyServer + proxyServer + startHTTPServer,
// default options, 2025-era and 2026 legs, event store on), with the one change that the upstream
// client speaks Streamable HTTP instead of stdio. Like the CLI, one upstream client (one upstream
// MCP session) is shared by every downstream session.
// Run: node --import tsx bench/mcp-proxy-http.ts --upstream URL --port N
// Prints "MCP_PROXY_LISTENING port=<n>" on stdout once listening on 127.0.0.1.
import { parseArgs } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Server, type ServerCapabilities } from '@modelcontextprotocol/server';
import { getUpstreamBridge, proxyServer, resolveVersionNegotiation, startHTTPServer } from 'mcp-proxy';

const { values } = parseArgs({ options: { upstream: { type: 'string' }, port: { type: 'string' } } });
if (!values.upstream || !values.port) throw new Error('--upstream URL and --port N are required');
const port = Number(values.port);

const client = new Client(
  { name: 'mcp-proxy', version: '1.0.0' },
  { capabilities: {}, versionNegotiation: resolveVersionNegotiation('legacy') },
);
await client.connect(new StreamableHTTPClientTransport(new URL(values.upstream)));

const createServer = async () => {
  // Same as mcp-proxy's internal createProxyServer (not exported).
  const serverCapabilities = client.getServerCapabilities() as ServerCapabilities;
  const server = new Server(client.getServerVersion() as { name: string; version: string }, {
    capabilities: serverCapabilities,
    instructions: client.getInstructions(),
  });
  await proxyServer({ client, server, serverCapabilities });
  return server;
};

const http = await startHTTPServer({
  createServer,
  host: '127.0.0.1',
  port,
  sseEndpoint: null,
  streamEndpoint: '/mcp',
});

getUpstreamBridge({ client }).subscribe({
  promptsListChanged: () => http.notify.promptsChanged(),
  resourcesListChanged: () => http.notify.resourcesChanged(),
  resourceUpdated: ({ uri }) => http.notify.resourceUpdated(uri),
  toolsListChanged: () => http.notify.toolsChanged(),
});

process.stdout.write(`MCP_PROXY_LISTENING port=${port}\n`);
