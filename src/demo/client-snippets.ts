// Ready-to-paste client configurations for an MCP URL that takes a bearer key, one per client in
// the shape its own documentation gives (docs/clients.md explains each and where it goes):
// - VS Code: .vscode/mcp.json, top-level `servers`, `"type": "http"`, `url`, `headers`.
// - Cursor: .cursor/mcp.json or ~/.cursor/mcp.json, top-level `mcpServers`, `url`, `headers`.
// - Claude Desktop: claude_desktop_config.json, top-level `mcpServers`; it launches stdio
//   commands only, so `mcp-remote` bridges to the URL. The header's value travels in an
//   environment variable because Claude Desktop on Windows (and Cursor) mangle spaces inside
//   `args`; mcp-remote expands `${NAME}` in header values.
// - Claude Code: `claude mcp add --transport http <name> <url> --header "…"` (the header after
//   the URL, as its documentation writes it: `--header` takes several values).

export interface ClientSnippet {
  /** The client, as people call it. */
  readonly client: string;
  /** Where the snippet goes. */
  readonly where: string;
  /** A JSON document (to merge into the file named in `where`) or a shell command line. */
  readonly kind: 'json' | 'command';
  readonly text: string;
}

/** The header value mcp-remote reads from its environment (no spaces in `args`). */
export const MCP_REMOTE_HEADER_ENV = 'GATEHOUSE_AUTH_HEADER';

export function clientSnippets(name: string, url: string, key: string): ClientSnippet[] {
  const authorization = `Bearer ${key}`;
  return [
    {
      client: 'VS Code',
      where: '.vscode/mcp.json',
      kind: 'json',
      text: JSON.stringify({ servers: { [name]: { type: 'http', url, headers: { Authorization: authorization } } } }),
    },
    {
      client: 'Cursor',
      where: '.cursor/mcp.json (or ~/.cursor/mcp.json)',
      kind: 'json',
      text: JSON.stringify({ mcpServers: { [name]: { url, headers: { Authorization: authorization } } } }),
    },
    {
      client: 'Claude Desktop',
      where: 'claude_desktop_config.json (it starts local commands only: mcp-remote bridges to the URL)',
      kind: 'json',
      text: JSON.stringify({
        mcpServers: {
          [name]: {
            command: 'npx',
            args: ['-y', 'mcp-remote', url, '--header', `Authorization:\${${MCP_REMOTE_HEADER_ENV}}`],
            env: { [MCP_REMOTE_HEADER_ENV]: authorization },
          },
        },
      }),
    },
    {
      client: 'Claude Code',
      where: 'a terminal',
      kind: 'command',
      text: `claude mcp add --transport http ${name} ${url} --header "Authorization: ${authorization}"`,
    },
  ];
}
