// An MCP server that does its own OAuth, built only from the SDK's pieces: McpServer behind
// StreamableHTTPServerTransport (stateless), guarded by the SDK's requireBearerAuth with a
// verifier of the test issuer's tokens, and publishing its own protected resource metadata. The
// `whoami` tool answers with what the server saw of the token, to show what reached it.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { TestIssuer } from './auth-issuer.ts';
import { answerWithWhoami } from './whoami-mcp.ts';

export interface OAuthUpstream {
  readonly origin: string;
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  readonly url: string;
  readonly metadataUrl: string;
  close(): Promise<void>;
}

/**
 * `audience()` is the token audience the server accepts. Behind Gatehouse in passthrough mode the
 * client asks for a token for Gatehouse's URL, so that is what a server fronted this way accepts.
 */
export async function startOAuthUpstream(issuer: TestIssuer, audience: () => string): Promise<OAuthUpstream> {
  const app = express();
  app.use(express.json());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
    res.json({ resource: `${origin}/mcp`, authorization_servers: [issuer.issuer], scopes_supported: ['mcp'], bearer_methods_supported: ['header'] });
  });
  app.all('/mcp', requireBearerAuth({ verifier: issuer.verifier(audience), resourceMetadataUrl: metadataUrl }), (req, res) =>
    answerWithWhoami(req, res, { name: 'oauth-upstream', description: 'What the server saw of the caller\'s token' }, (auth) =>
      JSON.stringify({ clientId: auth?.clientId, scopes: auth?.scopes, resource: auth?.resource?.href }),
    ),
  );
  return {
    origin,
    url: `${origin}/mcp`,
    metadataUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
