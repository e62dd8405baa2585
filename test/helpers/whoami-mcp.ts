// The stateless MCP server that the test upstreams doing their own OAuth put behind the SDK's
// requireBearerAuth: one McpServer per request (JSON answers, no session) with a `whoami` tool
// that says what the server saw of the caller's token.
import type { Request, Response } from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/** Answers one MCP request; `whoami` makes the tool's text from the verified token's AuthInfo. */
export async function answerWithWhoami(req: Request, res: Response, server: { name: string; description: string }, whoami: (auth: AuthInfo | undefined) => string): Promise<void> {
  const mcp = new McpServer({ name: server.name, version: '1.0.0' });
  mcp.registerTool('whoami', { description: server.description }, (extra) => ({ content: [{ type: 'text', text: whoami(extra.authInfo) }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, req.body);
}
