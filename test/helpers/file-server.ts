// A real MCP server, built with the SDK, that serves files as `file://` resources the way a Node
// server naturally does: it parses the URI with the URL standard (`new URL`) and reads
// `fileURLToPath` of it. Any spelling that parses to the same file reads that file, which is what a
// gateway's resource rules must account for. Records every URI it was asked to read.
import { createServer, type Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListResourceTemplatesRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface RunningFileServer {
  readonly url: string;
  /** Every `resources/read` URI received, as sent. */
  readonly reads: string[];
  close(): Promise<void>;
}

/** Serves the files named in `files` (absolute paths) as resources, and any other file by the template `file:///{+path}`. */
export async function startFileServer(files: readonly string[]): Promise<RunningFileServer> {
  const reads: string[] = [];
  const mcpServer = (): Server => {
    const server = new Server({ name: 'files', version: '1.0.0' }, { capabilities: { resources: {} } });
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: files.map((file) => ({ uri: `file://${file}`, name: file })) }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [{ uriTemplate: 'file:///{+path}', name: 'file' }] }));
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
      reads.push(request.params.uri);
      const url = new URL(request.params.uri);
      const text = await readFile(fileURLToPath(url), 'utf8');
      return { contents: [{ uri: request.params.uri, mimeType: 'text/plain', text }] };
    });
    return server;
  };
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http: HttpServer = createServer(async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport) {
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void transports.set(id, created) });
      transport = created;
      await mcpServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    reads,
    close: async () => {
      for (const t of transports.values()) await t.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
